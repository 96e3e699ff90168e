"""Signed download links: `<public URL>/files/jobs/<id>/video.mp4?expires=<t>&sig=<mac>`.

A remote caller cannot open the server's disk or its bucket, and a host's own link dies (ModelArk's after a
day, fal's some time later). So over HTTP with `SEEDANCE_PUBLIC_URL`, each finished video, poster and film
is handed out as a link of the server's own, which any replica can check and serve: an HMAC-SHA256 of the
path and its expiry, under a key every replica holds. A link is a bearer link: whoever holds it may
download, until it expires. Every view of a job signs a fresh one, so an old link expiring strands nothing.

The key is derived from `SEEDANCE_REQUEST_STATE_KEYS` when set (the first signs, any verifies, for a
rotation), else from a random key this server keeps in `SEEDANCE_HOME`, which other machines do not share.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from server.media.exclusive import write_new
from server.settings import Settings

if TYPE_CHECKING:
    from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

KEY_FILE = "download-links.key"
PURPOSE = b"seedance-mcp download links v1"  # keeps these MACs apart from anything else the keys sign
PATH = re.compile(r"/files/(?P<kind>jobs|films)/(?P<id>[^/]{1,600})/(?P<name>video\.mp4|poster\.jpg)")
CONTENT_TYPES = {"video.mp4": "video/mp4", "poster.jpg": "image/jpeg"}


@dataclass(frozen=True)
class Target:
    """What a link names: a job's or a film's video or poster."""

    kind: str  # "jobs" or "films"
    id: str
    name: str  # "video.mp4" or "poster.jpg"

    @property
    def path(self) -> str:
        """What is signed: the path with the id as its host spelled it."""
        return f"/files/{self.kind}/{self.id}/{self.name}"

    @property
    def url_path(self) -> str:
        """The path as the link writes it, the id percent-encoded, slashes and all."""
        return f"/files/{self.kind}/{quote(self.id, safe='')}/{self.name}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.name]

    @property
    def poster(self) -> bool:
        return self.name == "poster.jpg"


def _mac(key: bytes, path: str, expires: int) -> str:
    digest = hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Links:
    def __init__(self, base: str, keys: tuple[bytes, ...], ttl_seconds: float) -> None:
        self._base = base.rstrip("/")
        self._keys = tuple(hmac.new(key, PURPOSE, hashlib.sha256).digest() for key in keys)
        self._ttl = ttl_seconds

    def sign(self, target: Target, now: float | None = None) -> str:
        """A link to `target`, good for the link lifetime from `now`."""
        expires = int((time.time() if now is None else now) + self._ttl)
        return f"{self._base}{target.url_path}?expires={expires}&sig={_mac(self._keys[0], target.path, expires)}"

    def video(self, kind: str, ident: str) -> str:
        return self.sign(Target(kind, ident, "video.mp4"))

    def poster(self, kind: str, ident: str) -> str:
        return self.sign(Target(kind, ident, "poster.jpg"))

    def check(self, raw_path: str, expires: str, sig: str, now: float | None = None) -> Target | None:
        """What a link names (its path as sent, still percent-encoded), if it is one of ours and has not
        expired; None for anything else, whatever it names, so that the answer says nothing about what exists."""
        found = PATH.fullmatch(raw_path)
        if found is None or not expires.isdigit() or len(expires) > 12:
            return None
        if int(expires) <= (time.time() if now is None else now):
            return None
        target = Target(found["kind"], unquote(found["id"]), found["name"])
        if not any(hmac.compare_digest(_mac(key, target.path, int(expires)), sig) for key in self._keys):
            return None
        return target


@functools.cache  # the download route and the answers' middleware are built apart: the file is read once
def link_keys(shared: tuple[str, ...], home: Path) -> tuple[bytes, ...]:
    """The replicas' shared keys, else this server's own, made once in `home` and kept there."""
    if shared:
        return tuple(key.encode() for key in shared)
    path = home / KEY_FILE
    home.mkdir(parents=True, exist_ok=True)
    write_new(path, secrets.token_hex(32).encode())  # False when another start made it first: theirs is kept
    path.chmod(0o600)
    return (path.read_bytes().strip(),)


LINKS: ContextVar[Links | None] = ContextVar("seedance_links", default=None)


def current_links() -> Links | None:
    """The signer for this request's answers: set over HTTP with a public URL, None otherwise."""
    return LINKS.get()


def handing_out(links: Links) -> ServerMiddleware[Any]:
    """Server middleware: answers made during a request hand out links signed by `links`."""

    async def with_links(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        reset = LINKS.set(links)
        try:
            return await call_next(ctx)
        finally:
            LINKS.reset(reset)

    return with_links


def links_of(settings: Settings) -> Links | None:
    """The server's signer, when it hands out links: over HTTP with `SEEDANCE_PUBLIC_URL` (on stdio, results
    name the person's own files)."""
    if settings.callback_base is None:
        return None
    keys = link_keys(settings.request_state_keys, settings.home)
    return Links(settings.callback_base, keys, settings.link_ttl_seconds)
