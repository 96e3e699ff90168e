"""Fetching the media a preview is made from: `data:` URIs and http(s) URLs, within the API's size limits."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes

import anyio
import httpx2

from server.errors import JobFailed
from server.inputs import local_path
from server.trust import Refused
from server.trust.network import CallerHttp

MAX_IMAGE_BYTES = 30 * 1024 * 1024


def _decode_data_uri(uri: str, field: str) -> bytes:
    header, _, payload = uri.partition(",")
    try:
        return base64.b64decode(payload, validate=True) if header.endswith(";base64") else unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise JobFailed(f"`{field}` is a data: URI whose base64 payload is broken") from exc


def _refusal(exc: BaseException) -> Refused | None:
    """The guard's refusal behind a connection error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, Refused):
        seen = seen.__cause__ or seen.__context__
    return seen


async def fetch(url: str, field: str, http: CallerHttp, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes behind `url`; `JobFailed` names the field when they cannot be had. Through the guarded
    client, so nothing is fetched from an address that is not public."""
    if url.startswith("data:"):
        data = _decode_data_uri(url, field)
    elif (path := local_path(url)) is not None:  # the backend's own copy of a checked file (LocalPreview.upload)
        data = await anyio.Path(path).read_bytes()
    else:
        try:
            async with http.get(url) as response:
                if response.status_code >= 400:
                    raise JobFailed(f"`{field}` could not be fetched: {url} answered HTTP {response.status_code}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        break
                    chunks.append(chunk)
                data = b"".join(chunks)
        except (Refused, httpx2.HTTPError) as exc:
            if refused := _refusal(exc):
                raise JobFailed(
                    f"`{field}` was not fetched: its host {refused}, which this server does not fetch from"
                ) from exc
            raise JobFailed(f"`{field}` could not be fetched from {url} ({type(exc).__name__})") from exc
    if len(data) > limit:
        raise JobFailed(f"`{field}` is larger than the {limit // (1024 * 1024)} MB allowed")
    return data
