"""`file://` URLs, which is how results point at videos stored on this machine."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname


def local_path(url: str) -> Path | None:
    """The file a `file://` URL names, or None for any other URL."""
    if not url.startswith("file://"):
        return None
    return Path(url2pathname(urlparse(url).path))
