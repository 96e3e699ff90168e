"""Serving a file as a CDN does: whole, or the byte range asked for (RFC 9110 §14), which players rely on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def serve(request: Request, data: bytes, media_type: str, *, ranges: bool = True) -> Response:
    """`data` in answer to `request`: 206 with the one range asked for, 416 past the end, else 200."""
    found = RANGE.fullmatch(request.headers.get("range", "").strip()) if ranges else None
    if found is None or not any(found.groups()):
        headers = {"Accept-Ranges": "bytes"} if ranges else {}
        return Response(data, media_type=media_type, headers=headers)
    first, last = found.groups()
    size = len(data)
    start = int(first) if first else max(size - int(last), 0)
    end = min(int(last), size - 1) if first and last else size - 1
    if start >= size or start > end:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    headers = {"Content-Range": f"bytes {start}-{end}/{size}", "Accept-Ranges": "bytes"}
    return Response(data[start : end + 1], status_code=206, media_type=media_type, headers=headers)


class BrokenOff(Exception):
    """Raised inside a response body: the server drops the connection mid-body, as a failing CDN node does."""


def broken_download(data: bytes, media_type: str) -> Response:
    """The whole length announced, half the bytes sent, then the connection dropped."""

    async def half() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        raise BrokenOff

    return StreamingResponse(half(), media_type=media_type, headers={"Content-Length": str(len(data))})


def video_answer(
    request: Request, data: bytes, fault: str | None, fault_answer: Callable[[str], Response], *, ranges: bool = True
) -> Response:
    """A finished video as a host's CDN serves it, or the fault a test injected for its download."""
    if fault == "broken":
        return broken_download(data, "video/mp4")
    if fault == "expired":  # as a signed link answers once its time is up (ModelArk's after 24 hours)
        return Response("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", 403)
    if fault is not None:
        return fault_answer(fault)
    return serve(request, data, "video/mp4", ranges=ranges)
