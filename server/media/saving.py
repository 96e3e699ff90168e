"""Keeping what a job made: the MP4 saved beside a sidecar of how it was made, and a poster frame.

fal's links expire, so a finished video is streamed to SEEDANCE_OUTPUT_DIR as soon as it exists, named
from the date and the prompt, with a JSON sidecar (prompt, arguments, seed, request id, cost, source).
A small JPEG of one frame goes with every result, for clients that show images but cannot play video.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2

from server.errors import VideoUnavailable
from server.ledger import JobRecord
from server.media.bucket import Bucket
from server.media.copies import Shelf
from server.media.exclusive import place, temporary, write_new
from server.media.file_urls import local_path, stored_video
from server.providers.retry import RETRYABLE_STATUS
from server.settings import RetryPolicy

logger = logging.getLogger(__name__)

MAX_VIDEO_BYTES = 2 * 1024**3
DOWNLOADS_AT_ONCE = 8
POSTERS_AT_ONCE = 2  # decoding is CPU and memory: with many jobs finishing together, take turns


def dated_name(created_at: float, words: str, fallback: str) -> str:
    """`2026-11-21 143012 a-lighthouse-in-a-storm.mp4`: sortable by date, readable by its words."""
    when = datetime.fromtimestamp(created_at).strftime("%Y-%m-%d %H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:60].rstrip("-")
    return f"{when} {slug or fallback}.mp4"


def file_name(record: JobRecord) -> str:
    return dated_name(record.created_at, str(record.arguments.get("prompt", "")), "video")


DOWNLOAD_ATTEMPTS = 3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _facts(video: Path) -> dict[str, Any]:
    """Width, height and duration as the file has them, which settle what "auto" asked for."""
    from server.preview.probe import probe_file

    facts = probe_file(video)
    return {"width": facts.width, "height": facts.height, "duration": round(facts.duration, 3)}


def _sidecar(record: JobRecord, result: dict[str, Any]) -> bytes:
    """How the video was made, saved beside it as JSON."""
    source = str(result["url"])
    sidecar = {
        "prompt": record.arguments.get("prompt"),
        "arguments": record.arguments,
        "seed": result.get("seed"),
        "request_id": record.request_id,
        "provider": record.provider,
        "endpoint": record.endpoint,
        "estimated_cost_usd": {"min": record.estimate_min_usd, "max": record.estimate_max_usd},
        "source_url": source if source.startswith(("https://", "http://")) else None,
        "saved_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    return json.dumps(sidecar, indent=2).encode()


class Truncated(ValueError):
    """The download ended before the whole video arrived: nothing of it is kept."""


class Unavailable(ValueError):
    """The host could not serve the video just now (5xx, 429): worth another attempt."""


@dataclass(frozen=True)
class Kept:
    saved_path: str | None = None
    poster_path: str | None = None
    problem: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # width, height and duration, read from the file
    saved_object: str | None = None  # with a bucket: the video's s3:// URL
    poster_object: str | None = None

    @property
    def stored(self) -> dict[str, Any]:
        """Where the copies went, as the job's result records it."""
        objects = {"saved_object": self.saved_object, "poster_object": self.poster_object}
        return {"saved_path": self.saved_path, "poster_path": self.poster_path} | {
            name: url for name, url in objects.items() if url
        }


class Keeper:
    def __init__(
        self,
        http: httpx2.AsyncClient,
        output_dir: Path | None,
        posters_dir: Path,
        cache_dir: Path,
        silence_seconds: float = 60,
        retry: RetryPolicy | None = None,
        bucket: Bucket | None = None,
    ) -> None:
        self._http = http
        self._cache = cache_dir  # videos fetched again, from the bucket or the host, for work on this machine
        self.shelf = Shelf(bucket)  # with a bucket, every copy goes there and output_dir is not used
        self._retry = retry or RetryPolicy()
        self._timeout = httpx2.Timeout(silence_seconds, connect=min(silence_seconds, 10.0))  # between two bytes
        self._output_dir = output_dir  # None: SEEDANCE_DOWNLOAD=0
        self._posters = posters_dir
        self._downloads = anyio.Semaphore(DOWNLOADS_AT_ONCE)
        self.decoders = anyio.CapacityLimiter(POSTERS_AT_ONCE)  # posters, frames, sheets and films share it

    async def keep(self, record: JobRecord, result: dict[str, Any]) -> Kept:
        """Save the video (hosted jobs), make its poster and read what it is; a failure never fails the job."""
        video = local_path(str(result["url"]))
        saved = None
        try:
            if self.shelf.bucket is not None:
                return await self._keep_in_bucket(self.shelf.bucket, record, result, video)
            if video is None and self._output_dir is not None:
                async with self._downloads:
                    saved = video = await self._download(record, result)
            if video is None:
                return Kept()
            poster = await self._poster(record, video)
            facts = await anyio.to_thread.run_sync(_facts, video, limiter=self.decoders)
        except (OSError, httpx2.HTTPError, ValueError) as exc:
            logger.warning("job %s: could not keep its video: %s", record.request_id, exc)
            broken = isinstance(exc, Truncated | Unavailable | httpx2.TransportError)
            what = "could not be downloaded whole" if broken else "could not be saved"
            what = f"{what} ({exc})" if isinstance(exc, Truncated | Unavailable) else f"{what} ({type(exc).__name__})"
            return Kept(problem=f"the video {what}; its link is the host's")
        return Kept(str(saved) if saved else None, str(poster), facts=facts)

    async def _download(self, record: JobRecord, result: dict[str, Any]) -> Path:
        """The whole video saved with its sidecar, or an error; never over a file already there."""
        assert self._output_dir is not None
        part = temporary(self._output_dir, ".mp4")
        try:
            size = await self._fetch_whole(record.request_id, str(result["url"]), part, result.get("file_size"))
            target = place(part, self._output_dir, file_name(record))
        finally:
            part.unlink(missing_ok=True)
        if not write_new(target.with_suffix(".json"), _sidecar(record, result)):
            logger.warning("job %s: a file took its sidecar's name first", record.request_id)
        # The folder, not the file: its name is made from the prompt, which the log never holds.
        logger.info("job %s saved in %s (%d bytes)", record.request_id, target.parent, size)
        return target

    async def _keep_in_bucket(
        self, bucket: Bucket, record: JobRecord, result: dict[str, Any], video: Path | None
    ) -> Kept:
        """The video, its sidecar and its poster stored in the bucket; a copy of the video stays in this
        replica's cache, which its poster and facts are read from. A preview's own file is stored too, so
        that any replica can serve it."""
        cached = self._cache / f"{record.request_id}.mp4"
        if video is None:
            part = temporary(self._cache, ".mp4")
            try:
                async with self._downloads:
                    await self._fetch_whole(record.request_id, str(result["url"]), part, result.get("file_size"))
                part.replace(cached)
            finally:
                part.unlink(missing_ok=True)
            video = cached
        name = file_name(record) if not record.preview else f"previews/{file_name(record)}"
        saved = await bucket.put_new(name, video)
        if await bucket.put_beside(saved, ".json", _sidecar(record, result)) is None:
            logger.warning("job %s: an object took its sidecar's name first", record.request_id)
        logger.info("job %s stored in the bucket (%d bytes)", record.request_id, video.stat().st_size)
        poster = await self._poster(record, video)
        poster_object = await bucket.put_beside(saved, ".jpg", await anyio.Path(poster).read_bytes())
        if poster_object is None:  # another's: this job's poster stays on this replica only
            logger.warning("job %s: an object took its poster's name first", record.request_id)
        facts = await anyio.to_thread.run_sync(_facts, video, limiter=self.decoders)
        return Kept(None, str(poster), facts=facts, saved_object=saved, poster_object=poster_object)

    async def _fetch_whole(self, request_id: str, url: str, part: Path, expected: int | None) -> int:
        """Stream `url` into `part`: a download cut short is tried again, and never kept as if whole."""
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                return await self._fetch(url, part, expected)
            except (httpx2.TransportError, Truncated, Unavailable) as exc:
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise
                logger.info("job %s: download attempt %d broke off (%s)", request_id, attempt, exc)
                await anyio.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def local_copy(self, record: JobRecord) -> Path:
        """A finished job's video on this machine: its saved copy, else a fresh download into the cache.

        VideoUnavailable says why there is none: the saved copy was deleted and the host's link is gone."""
        result = record.result or {}
        stored = stored_video(result)
        if stored is not None and stored.is_file():
            return stored
        url = str(result.get("url", ""))
        cached = self._cache / f"{record.request_id}.mp4"
        if cached.is_file():
            return cached
        if (saved := str(result.get("saved_object") or "")) and self.shelf.in_bucket(saved):
            try:
                return await self.shelf.local(saved, cached)
            except OSError as exc:  # gone from the bucket: the host's link may still answer
                logger.info("job %s: its stored copy could not be read (%s)", record.request_id, exc)
        if not url.startswith(("https://", "http://")):
            raise VideoUnavailable(
                f"job {record.request_id}'s video file {(stored or Path(url)).name} is gone from this machine"
            )
        part = temporary(self._cache, ".mp4")
        async with self._downloads:
            try:
                await self._fetch_whole(record.request_id, url, part, result.get("file_size"))
                part.replace(cached)  # the server's own cache, named by the job: the same video either way
            except (OSError, httpx2.HTTPError, ValueError) as exc:
                raise VideoUnavailable(
                    f"job {record.request_id}'s video is not saved here and could not be downloaded from its host "
                    f"({exc.__class__.__name__}; the host's links expire)"
                ) from exc
            finally:
                part.unlink(missing_ok=True)
        return cached

    async def poster_here(self, record: JobRecord) -> JobRecord:
        """The record, with its poster on this machine: one another replica stored in the bucket is fetched
        into this replica's posters, so that the result carries it as an image wherever it is asked for."""
        result = record.result or {}
        stored, kept = str(result.get("poster_object") or ""), str(result.get("poster_path") or "")
        if not self.shelf.in_bucket(stored) or (kept and Path(kept).is_file()):
            return record
        try:
            target = await self.shelf.local(stored, self._posters / f"{record.request_id}.jpg")
        except OSError as exc:
            logger.info("job %s: its stored poster could not be read (%s)", record.request_id, exc)
            return record
        return replace(record, result={**result, "poster_path": str(target)})

    async def host_last_frame(self, record: JobRecord, target: Path) -> bool:
        """The job's last frame as its host drew it (ModelArk's `return_last_frame`: a PNG of the video's size,
        kept 24 h), written to `target`; False when there is none or its link no longer answers, and the frame
        is then decoded from the video instead."""
        url = str((record.result or {}).get("last_frame_url") or "")
        if target.is_file():
            return True
        if not url.startswith(("https://", "http://")):
            return False
        part = temporary(target.parent, ".png")
        try:
            await self._fetch(url, part, None)
            with part.open("rb") as picture:
                if picture.read(8) != PNG_SIGNATURE:
                    raise ValueError("the host's last frame is not a PNG")
            part.replace(target)  # the server's own cache, named by job and frame: the same picture either way
        except (OSError, httpx2.HTTPError, ValueError) as exc:
            logger.info("job %s: its host's last frame could not be read (%s); decoding it", record.request_id, exc)
            return False
        finally:
            part.unlink(missing_ok=True)
        return True

    async def _fetch(self, url: str, part: Path, expected: int | None) -> int:
        """Stream `url` into `part`; the byte count must match what the host and the result said."""
        async with self._http.stream("GET", url, timeout=self._timeout, follow_redirects=True) as answer:
            if answer.status_code in RETRYABLE_STATUS:
                raise Unavailable(f"the host answered HTTP {answer.status_code}")
            answer.raise_for_status()
            encoded = "content-encoding" in answer.headers  # then Content-Length counts the encoded bytes
            length = None if encoded else answer.headers.get("content-length")
            size = 0
            async with await anyio.open_file(part, "wb") as out:
                async for chunk in answer.aiter_bytes(1024 * 1024):
                    size += len(chunk)
                    if size > MAX_VIDEO_BYTES:
                        raise ValueError("the video is larger than 2 GB")
                    await out.write(chunk)
        for said in (length, expected):
            if said is not None and str(said).isdigit() and int(said) != size:
                raise Truncated(f"{size} of {said} bytes arrived")
        return size

    async def _poster(self, record: JobRecord, video: Path) -> Path:
        started = time.monotonic()
        poster = await self.write_poster(video, self._posters / f"{record.request_id}.jpg")
        logger.debug("poster for %s in %.2f s", record.request_id, time.monotonic() - started)
        return poster

    async def write_poster(self, video: Path, poster: Path) -> Path:
        """The video's poster written whole under `poster`; one already there (this same job's or film's,
        made by another replica or an earlier run) is kept, never replaced."""
        from server.video.poster import poster_jpeg  # PyAV and Pillow only when there is a video

        jpeg = await anyio.to_thread.run_sync(poster_jpeg, video, limiter=self.decoders)
        await anyio.to_thread.run_sync(write_new, poster, jpeg)
        return poster
