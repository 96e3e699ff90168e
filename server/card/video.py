"""A finished job's video in pieces, for the card to join into a `data:` URL.

The sandbox's default policy plays media only from `'self'` and `data:`, and blocks `blob:`. So a video
the card cannot load from its host (a preview, a saved copy, a link that expired or that the client's
policy refused) comes through the server in base64 pieces small enough for any transport.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from server.errors import VideoUnavailable
from server.ledger import JobRecord
from server.media.copies import Shelf, job_video

CHUNK_BYTES = 576 * 1024  # a multiple of 3, so the pieces' base64 joins into one; 768 KiB of base64 a piece
FETCH_TIMEOUT = httpx2.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class Chunk:
    data: bytes
    offset: int
    total_bytes: int


async def read_chunk(record: JobRecord, offset: int, http: httpx2.AsyncClient, shelf: Shelf) -> Chunk:
    """The piece of the job's video that starts at `offset`: from its saved copy, else from the host by range."""
    result = record.result or {}
    url = str(result.get("url", ""))
    if record.status != "completed" or not url:
        raise VideoUnavailable(f"Job {record.request_id} has no video (status {record.status}).")
    try:
        copy = await shelf.find(job_video(result))
        if copy is not None:
            _check(offset, copy.size)
            return Chunk(await shelf.read_all(copy, offset, offset + CHUNK_BYTES), offset, copy.size)
    except OSError as exc:
        raise VideoUnavailable(f"Job {record.request_id}'s saved copy could not be read ({exc}).") from exc
    if url.startswith(("https://", "http://")):
        return await _from_host(http, url, offset)
    raise VideoUnavailable(f"Job {record.request_id}'s video file is gone from this machine.")


def _check(offset: int, total: int) -> None:
    if offset > total or (offset == total and total > 0):
        raise VideoUnavailable(f"offset {offset} is past the end of the video ({total} bytes); start from 0.")


async def _from_host(http: httpx2.AsyncClient, url: str, offset: int) -> Chunk:
    headers = {"Range": f"bytes={offset}-{offset + CHUNK_BYTES - 1}"}
    try:
        async with http.stream("GET", url, headers=headers, timeout=FETCH_TIMEOUT, follow_redirects=True) as answer:
            if answer.status_code == 416:
                raise VideoUnavailable(f"offset {offset} is past the end of the video; start from 0.")
            if answer.status_code not in (200, 206):
                raise VideoUnavailable(
                    f"The host answered {answer.status_code} for the video: its link has probably expired, and "
                    "no copy was saved on this machine (SEEDANCE_DOWNLOAD=0)."
                )
            if answer.status_code == 206:
                total = int(answer.headers.get("content-range", "*/0").rsplit("/", 1)[-1])
                return Chunk(await answer.aread(), offset, total)
            # A host that ignores ranges sends the whole file: keep only the piece asked for.
            piece, seen = bytearray(), 0
            async for block in answer.aiter_bytes():
                piece += block[max(offset - seen, 0) :]
                seen += len(block)
                if len(piece) >= CHUNK_BYTES:
                    break
            total = int(answer.headers.get("content-length", 0)) or seen
            _check(offset, total)
            return Chunk(bytes(piece[:CHUNK_BYTES]), offset, total)
    except httpx2.HTTPError as exc:
        raise VideoUnavailable(f"Could not reach the host for the video ({type(exc).__name__}).") from exc
