"""Tools only the card calls stay out of the tool list of clients that cannot show the card.

Hosts that render MCP Apps keep an app-only tool from the model themselves. A client without them would
list it like any other, so its model would see tools it has no use for; the call itself is still served,
for a host that renders the card without saying so.
"""

from __future__ import annotations

from typing import Any

from mcp.server.apps import client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext


def _for_model(tool: Any) -> bool:
    ui = (tool.get("_meta") or {}).get("ui") or {} if isinstance(tool, dict) else {}
    return "model" in ui.get("visibility", ["model"])


async def hide_app_only_tools(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    result = await call_next(ctx)
    if ctx.method == "tools/list" and isinstance(result, dict) and not client_supports_apps(ctx):
        result = {**result, "tools": [tool for tool in result.get("tools", []) if _for_model(tool)]}
    return result
