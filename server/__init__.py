"""seedance-mcp: a Model Context Protocol server for ByteDance Seedance 2.0 video generation."""

__version__ = "0.1.0"
