"""The download route, `GET /files/...`: a signed link's video or poster, from this machine or the bucket.

It stands in front of sign-in and the bearer token, since the link is the proof (`server.media.links`): a
`<video>` element, a browser tab or `curl` sends no token. Only the Host check applies. `Range` is honoured,
so a player can seek. The answers:

- 200 or 206 with the bytes, `Content-Type`, `Content-Length` and `Accept-Ranges`; 416 for a range past
  the end;
- 403 for a link that is not one of ours, was changed, or has expired, whatever it names, so that the
  answer says nothing about what exists; 404 when a valid link's copy is gone;
- 405 for anything but GET and HEAD; 421 for a wrong `Host`; 503 while starting or stopping, or with the
  ledger or the bucket away.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs, quote

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server import metrics
from server.media.copies import Copy, job_video, poster_of
from server.media.links import Links, Target
from server.operations.probes import answer_json
from server.state import AppState

logger = logging.getLogger(__name__)

PREFIX = "/files/"
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
INVALID = "this link is not valid or has expired: call get_job (or list_films) for a fresh one"


class Unsatisfiable(ValueError):
    """The range starts past the end of the file (416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The `[start, end)` a `Range` header asks for; None for the whole file (no header, or one this server
    does not split, such as several ranges); Unsatisfiable for a range past the end."""
    found = RANGE.fullmatch((header or "").strip())
    if found is None or not (found[1] or found[2]):
        return None
    if not found[1]:  # the last n bytes
        if int(found[2]) == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(size - int(found[2]), 0), size
    start = int(found[1])
    if found[2] and int(found[2]) < start:  # not a range at all, which RFC 9110 says to ignore
        return None
    end = min(int(found[2]) + 1, size) if found[2] else size
    if start >= size:
        raise Unsatisfiable(header)
    return start, end


class Downloads:
    """ASGI: answers `GET /files/...` itself and hands everything else to `app`."""

    def __init__(
        self, app: ASGIApp, state: Callable[[], AppState | None], links: Links, security: TransportSecuritySettings
    ) -> None:
        self.app = app
        self.state = state
        self.links = links
        self.guard = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIX):
            return await self.app(scope, receive, send)
        request = Request(scope)
        if not self.guard._validate_host(request.headers.get("host")):  # the Host check alone: a link has no Origin
            return await answer_json(send, 421, {"status": "invalid Host header"})
        if scope["method"] not in ("GET", "HEAD"):
            return await answer_json(send, 405, {"status": "downloads are GET or HEAD"})
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        expires, sig = (query.get(name, [""])[0] for name in ("expires", "sig"))
        raw_path = scope.get("raw_path") or path.encode()  # as sent: an id may hold an encoded slash
        target = self.links.check(raw_path.decode("latin-1"), expires, sig)
        if target is None:
            metrics.meter.download("refused")
            return await answer_json(send, 403, {"status": INVALID})
        state = self.state()
        if state is None:
            metrics.meter.download("unavailable")
            return await answer_json(send, 503, {"status": "starting or stopping: try again shortly"})
        try:
            copy = await state.keeper.shelf.find(await self._where(state, target))
        except Exception as exc:  # a driver's or the store's text may hold a URL: its kind only
            logger.warning("download not served: the ledger or the bucket did not answer (%s)", type(exc).__name__)
            metrics.meter.download("unavailable")
            return await answer_json(send, 503, {"status": "the server's storage is away: try again shortly"})
        if copy is None:
            metrics.meter.download("gone")
            return await answer_json(send, 404, {"status": "this video is no longer kept on the server"})
        metrics.meter.download("served")
        await self._send(state, copy, target, request, send)

    async def _where(self, state: AppState, target: Target) -> str | None:
        if target.kind == "jobs":
            record = await state.ledger.get(target.id)
            result = (record.result or {}) if record is not None else {}
            return poster_of(result) if target.poster else job_video(result)
        film = await state.ledger.film(target.id)
        if film is None:
            return None
        return poster_of(film.facts) if target.poster else film.path

    async def _send(self, state: AppState, copy: Copy, target: Target, request: Request, send: Send) -> None:
        headers = [
            (b"content-type", target.content_type.encode()),
            (b"accept-ranges", b"bytes"),
            (b"cache-control", b"private, max-age=3600"),
            (b"content-disposition", f'inline; filename="{quote(target.id, safe="")}-{target.name}"'.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        try:
            asked = byte_range(request.headers.get("range"), copy.size)
        except Unsatisfiable:
            headers.append((b"content-range", f"bytes */{copy.size}".encode()))
            await send({"type": "http.response.start", "status": 416, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})
        start, end = (0, copy.size) if asked is None else asked
        if asked is not None:
            headers.append((b"content-range", f"bytes {start}-{end - 1}/{copy.size}".encode()))
        headers.append((b"content-length", str(end - start).encode()))
        await send({"type": "http.response.start", "status": 200 if asked is None else 206, "headers": headers})
        if request.method == "GET":
            async for piece in state.keeper.shelf.read(copy, start, end):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
