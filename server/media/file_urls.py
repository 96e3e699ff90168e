"""`file://` URLs, which is how results point at videos stored on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname


def local_path(url: str) -> Path | None:
    """The file a `file://` URL names, or None for any other URL."""
    if not url.startswith("file://"):
        return None
    return Path(url2pathname(urlparse(url).path))


def stored_video(result: dict[str, Any]) -> Path | None:
    """Where a finished job's video is on this machine: its saved copy, else a preview's own file."""
    if result.get("saved_path"):
        return Path(str(result["saved_path"]))
    return local_path(str(result.get("url", "")))
