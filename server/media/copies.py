"""Where a saved copy is, and reading it: a file on this machine, or an object in the bucket.

The ledger names each copy by where it went: a path (`saved_path`, `poster_path`, a film's `path`) or, with
`SEEDANCE_STORAGE_URL`, an `s3://` URL (`saved_object`, `poster_object`, a film's `path`). Whoever serves a
copy (a download link, a resource, the card's pieces) asks here, and reads it the same way either way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from server.media.bucket import Bucket
from server.media.file_urls import stored_video

logger = logging.getLogger(__name__)

PIECE_BYTES = 1024 * 1024


def job_video(result: Mapping[str, Any]) -> str | None:
    """Where a finished job's video is kept: its object, its saved file, or a preview's own file."""
    if result.get("saved_object"):
        return str(result["saved_object"])
    path = stored_video(dict(result))
    return None if path is None else str(path)


def poster_of(found: Mapping[str, Any]) -> str | None:
    """Where a job's poster (from its result) or a film's (from its facts) is kept."""
    return str(found.get("poster_object") or found.get("poster_path") or "") or None


@dataclass(frozen=True)
class Copy:
    where: str  # a path on this machine, or an object's s3:// URL
    size: int


class Shelf:
    """Reads saved copies wherever they were put; `bucket` is None without SEEDANCE_STORAGE_URL."""

    def __init__(self, bucket: Bucket | None) -> None:
        self.bucket = bucket

    def in_bucket(self, where: str) -> bool:
        return self.bucket is not None and self.bucket.key_of(where) is not None

    async def find(self, where: str | None) -> Copy | None:
        """The copy, if it is there; None when it is gone (or names a bucket this server does not use)."""
        if not where:
            return None
        if where.startswith("s3://"):
            size = await self.bucket.size(where) if self.bucket is not None else None
            return None if size is None else Copy(where, size)
        path = anyio.Path(where)
        if not await path.is_file():
            return None
        return Copy(where, (await path.stat()).st_size)

    async def read(self, copy: Copy, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes `start` up to `end` (exclusive; None: the end) of the copy, a piece at a time."""
        end = copy.size if end is None else min(end, copy.size)
        if self.bucket is not None and self.in_bucket(copy.where):
            async for piece in self.bucket.read(copy.where, start, end):
                yield piece
            return
        async with await anyio.open_file(copy.where, "rb") as handle:
            await handle.seek(start)
            while start < end:
                piece = await handle.read(min(PIECE_BYTES, end - start))
                if not piece:
                    return
                start += len(piece)
                yield piece

    async def read_all(self, copy: Copy, start: int = 0, end: int | None = None) -> bytes:
        return b"".join([piece async for piece in self.read(copy, start, end)])

    async def stored_frame(self, target: Path) -> bool:
        """A frame another replica took and stored, fetched to `target` (named by job and moment); False when
        there is none, or no bucket."""
        if self.bucket is None:
            return False
        try:
            await self.bucket.fetch(self.bucket.object_url(f"frames/{target.name}"), target)
        except OSError:
            return False
        return True

    async def store_frame(self, frame: Path) -> None:
        """A frame this replica took, stored for the others: once, since one job's moment is one picture. A
        store that fails costs the call nothing: the frame is made again wherever it is needed."""
        if self.bucket is None:
            return
        try:
            await self.bucket.put_once(f"frames/{frame.name}", await anyio.Path(frame).read_bytes())
        except OSError as exc:
            logger.warning("a frame was not stored in the bucket (%s)", exc)

    async def local(self, where: str, target: Path) -> Path:
        """The copy as a file on this machine: itself, or the object fetched to `target` (a cache)."""
        if self.bucket is not None and self.in_bucket(where):
            return target if target.is_file() else await self.bucket.fetch(where, target)
        return Path(where)
