"""The card's `ui://` resource, its Content-Security-Policy, and the `_meta` that links tools to it."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from mcp.server.apps import APP_MIME_TYPE, Apps, ResourceCsp
from mcp.server.mcpserver.resources import FunctionResource

CARD_URI = "ui://seedance/job.html"


def card_meta() -> dict[str, Any]:
    """A tool whose result the card shows; the flat key is the deprecated spelling older hosts still read."""
    return {"ui": {"resourceUri": CARD_URI}, "ui/resourceUri": CARD_URI}


def app_only_meta() -> dict[str, Any]:
    """A tool only the card calls: hosts keep it from the model."""
    return {"ui": {"resourceUri": CARD_URI, "visibility": ["app"]}}


def card_html() -> str:
    return files("server.card").joinpath("job.html").read_text(encoding="utf-8")


def card_resource(media_origins: tuple[str, ...]) -> Apps:
    """The MCP Apps extension serving the card, allowed to play video from `media_origins`.

    The sandbox's default policy allows media only from `'self'` and `data:`; the hosts' CDNs are added
    as resource domains. Everything else the card plays comes through the server as a `data:` URL.
    """
    csp = ResourceCsp(resource_domains=list(media_origins))  # declared even when empty: previews only
    ui = {"csp": csp.model_dump(by_alias=True, exclude_none=True), "prefersBorder": True}
    apps = Apps()
    apps.add_resource(
        FunctionResource(  # read when a host asks for it, not at every start
            uri=CARD_URI,
            name="job-card",
            title="Seedance job card",
            description="Follows a video job, shows its price and status, and plays the video.",
            mime_type=APP_MIME_TYPE,
            meta={"ui": ui},
            fn=card_html,
        )
    )
    return apps
