"""Saved copies in object storage (`SEEDANCE_STORAGE_URL=s3://bucket/prefix`), which every replica reads.

A folder on one replica's disk is out of reach of the others and of the caller; S3 and the stores that speak
its API (MinIO, R2, GCS's S3 mode) are where replicas share files. Credentials, region and endpoint come
from the standard `AWS_*` variables (`AWS_ENDPOINT_URL` for a store that is not AWS), read by `obstore`,
which is imported only when this setting is used, so a start without it pays nothing.

The folder's guarantees hold here too: a copy is written under a name only if that name is free (a
conditional `If-None-Match: *` put, refused when another took it), so no copy replaces another; an object
appears whole or not at all, so a broken upload never counts as saved; and the ledger names the object by
its `s3://` URL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from server.media.exclusive import names, temporary

if TYPE_CHECKING:
    from obstore.store import S3Store

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024


class StorageError(OSError):
    """The bucket did not answer as asked; its text names the operation, never the store's own message,
    which holds its URL."""


class Bucket:
    def __init__(self, url: str) -> None:
        from obstore.store import S3Store

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.url = url
        self._store: S3Store = S3Store(bucket, prefix=prefix or None, client_options={"allow_http": True})

    def object_url(self, key: str) -> str:
        """The `s3://` URL the ledger names an object by."""
        return f"{self.url}/{key}"

    def key_of(self, url: str) -> str | None:
        """The key of one of this bucket's objects, from its URL; None for anything else."""
        return url.removeprefix(self.url + "/") if url.startswith(self.url + "/") else None

    async def put_new(self, name: str, data: Path | bytes) -> str:
        """Store `data` under `name`, or the first free `name (n)`, never over an object; its URL."""
        for candidate in names(name):
            if await self.put_once(candidate, data):
                return self.object_url(candidate)
        raise AssertionError("unreachable: the names never run out")

    async def put_beside(self, url: str, extension: str, data: bytes) -> str | None:
        """Store `data` under the name of the object at `url` with another extension (a video's sidecar or
        poster); its URL, or None when that name was taken (the other object is kept)."""
        key = self.key_of(url)
        assert key is not None, "beside one of this bucket's objects"
        name = f"{key.rpartition('.')[0]}{extension}"
        return self.object_url(name) if await self.put_once(name, data) else None

    async def put_once(self, name: str, data: Path | bytes) -> bool:
        """Store `data` under `name` if it is free; False when an object is there already (kept)."""
        import obstore
        from obstore.exceptions import AlreadyExistsError

        try:
            await obstore.put_async(self._store, name, data, mode="create")
        except AlreadyExistsError:
            return False
        except Exception as exc:
            raise StorageError(f"the bucket refused to store a copy ({type(exc).__name__})") from None
        return True

    async def size(self, url: str) -> int | None:
        """The object's size in bytes; None when there is no such object."""
        import obstore

        key = self.key_of(url)
        if key is None:
            return None
        try:
            meta: dict[str, Any] = await obstore.head_async(self._store, key)  # type: ignore[assignment]
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise StorageError(f"the bucket did not say how large a copy is ({type(exc).__name__})") from None
        return int(meta["size"])

    async def read(self, url: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` up to `end` (exclusive) of the object, a piece at a time."""
        import obstore

        key = self.key_of(url)
        assert key is not None, "read only what `size` found"
        try:
            got = await obstore.get_async(self._store, key, options={"range": (start, end)})
            async for piece in got.stream(min_chunk_size=CHUNK_BYTES):
                yield bytes(piece)
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise StorageError(f"the bucket broke off a read ({type(exc).__name__})") from None

    async def fetch(self, url: str, target: Path) -> Path:
        """The object written whole to `target` (a cache of this replica's), through a temporary file."""
        size = await self.size(url)
        if size is None:
            raise FileNotFoundError(url)
        part = temporary(target.parent, target.suffix)
        try:
            async with await anyio.open_file(part, "wb") as out:
                async for piece in self.read(url, 0, size):
                    await out.write(piece)
            part.replace(target)  # named by job or film: the same bytes whichever replica wrote them
        finally:
            part.unlink(missing_ok=True)
        return target
