"""Tools only the job card calls: hosts that render MCP Apps keep them from the model."""

from mcp.types import ToolAnnotations

# They read the ledger, this machine's files or the host's video link, and change nothing.
READS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
