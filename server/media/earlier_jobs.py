"""Turning `seedance://jobs/...` references into files on this machine, sent on like any local file.

A frame is decoded from the job's saved video (downloaded first when only the host has it), or, for the last
frame of a job whose host drew its own, downloaded as the host made it; either way it is a PNG, lossless,
named by job and frame so that asking again reuses the file and its upload. A video reference is the saved
MP4 itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from server.errors import InvalidArguments, VideoUnavailable
from server.folders import HOME, writing
from server.inputs.files import LocalFile
from server.inputs.formats import MAX_BYTES, MB, SLOTS, Kind
from server.inputs.references import PREFIX, FindJob, JobReference, check, check_time, parse
from server.media.copies import Shelf

if TYPE_CHECKING:
    from server.ledger import JobRecord  # the ledger is handed in, never imported

LocalCopy = Callable[["JobRecord"], Awaitable[Path]]
HostFrame = Callable[["JobRecord", Path], Awaitable[bool]]  # the host's own last frame written to a path, if it has one


def references(arguments: Mapping[str, object]) -> list[JobReference]:
    """Every `seedance://` value in the call's media slots, parsed (InvalidArguments if one is malformed)."""
    found = []
    for slot in SLOTS:
        value = arguments.get(slot)
        items = [(slot, value)] if isinstance(value, str) else list(enumerate(value)) if isinstance(value, list) else []
        for key, item in items:
            if isinstance(item, str) and item.startswith(PREFIX):
                found.append(parse(slot if isinstance(key, str) else f"{slot}[{key}]", item))
    return found


def _write_frame(video: Path, reference: JobReference, target: Path) -> Path:
    from server.video.facts import read_facts
    from server.video.frames import frame

    if isinstance(reference.frame, float):
        check_time(reference, read_facts(video).duration)  # the ledger may not know the length; the file does
    if not target.is_file():
        picture = frame(video, "last" if reference.frame is None else reference.frame)
        part = target.with_name(target.name + ".part")
        with writing(target.parent, HOME):
            picture.save(part, format="PNG")
            part.replace(target)
    return target


async def resolve(
    arguments: Mapping[str, object],
    find: FindJob,
    local_copy: LocalCopy,
    frames_dir: Path,
    host_frame: HostFrame,
    shelf: Shelf,
) -> list[LocalFile]:
    """The files the call's job references stand for, each in its slot; errors name the field.

    A frame another replica stored in the bucket is taken as it is, and so is a last frame the host drew
    itself, before any video is read; a frame taken here is stored for the other replicas."""
    files = []
    for reference in references(arguments):
        record = check(reference, find)
        target = frames_dir / f"{record.request_id}-{reference.label}.png"
        if reference.frame is not None:
            with writing(frames_dir, HOME):
                frames_dir.mkdir(parents=True, exist_ok=True)
            if target.is_file() or await shelf.stored_frame(target):
                files.append(await _kept(reference.field, target, "image", "image/png"))
                continue
        if reference.frame == "last" and await host_frame(record, target):
            await shelf.store_frame(target)
            files.append(await _kept(reference.field, target, "image", "image/png"))
            continue
        try:
            video = await local_copy(record)
        except VideoUnavailable as exc:
            raise InvalidArguments(reference.field, str(exc), "use another job, or pass the video by URL") from exc
        if reference.frame is None:
            size = video.stat().st_size
            if size > MAX_BYTES["video"]:
                raise InvalidArguments(
                    reference.field,
                    f"job {record.request_id}'s video is {size / MB:.1f} MB, above 50 MB",
                    "use a shorter job",
                )
            files.append(await _kept(reference.field, video, "video", "video/mp4"))
            continue
        try:
            await anyio.to_thread.run_sync(_write_frame, video, reference, target)
        except (OSError, ValueError) as exc:
            raise InvalidArguments(
                reference.field, f"job {record.request_id}'s video could not be read ({exc})", "use another job"
            ) from exc
        await shelf.store_frame(target)
        files.append(await _kept(reference.field, target, "image", "image/png"))
    return files


async def _kept(field: str, path: Path, kind: Kind, content_type: str) -> LocalFile:
    """A file this server made (a frame, a saved video), read for the call like a caller's checked file."""
    return LocalFile(field, path.name, await anyio.Path(path).read_bytes(), kind, content_type)
