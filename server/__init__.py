"""seedance-mcp: a Model Context Protocol server for ByteDance Seedance video generation."""

__version__ = "0.1.0"
