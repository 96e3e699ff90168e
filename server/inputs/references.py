"""Earlier jobs as inputs, so that a shot can start where the one before it ended.

In an image slot, `seedance://jobs/{request_id}/frames/last` (or `first`, or a time such as `2.5`) is that
frame of the job's video; in a video slot, `seedance://jobs/{request_id}` is the video itself. Each is
checked against the ledger before anything is sent: the job must exist, have finished, and have made a
video long enough for the time asked. The frame itself is taken on this machine (see `resolve`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.errors import InvalidArguments, Problem, echo
from server.inputs.formats import Which, slot_kind
from server.trust.owners import current_person

if TYPE_CHECKING:
    from server.ledger import JobRecord, Ledger

PREFIX = "seedance://"
# \A and \Z, not ^ and $: `$` also matches before a final line break, which would let one through.
PATTERN = re.compile(r"\Aseedance://jobs/(?P<id>[A-Za-z0-9._-]+)(?:/frames/(?P<frame>first|last|\d+(?:\.\d+)?))?\Z")
IMAGE_EXAMPLE = "seedance://jobs/{request_id}/frames/last (or /frames/first, or /frames/2.5 for a time in seconds)"
VIDEO_EXAMPLE = "seedance://jobs/{request_id}"

FindJob = Callable[[str], "JobRecord | None"]  # the ledger is handed in, never imported


async def find_jobs(ledger: Ledger, request_ids: Iterable[str]) -> FindJob:
    """These jobs, read from the ledger up front, so that every check after is plain; a job the person
    asking may not see is not found."""
    person = current_person()
    found = {request_id: await ledger.get(request_id) for request_id in set(request_ids)}
    return lambda request_id: job if (job := found.get(request_id)) and person.may_see(job) else None


@dataclass(frozen=True)
class JobReference:
    field: str
    request_id: str
    frame: Which | None  # "first", "last", seconds; None for the job's whole video

    @property
    def label(self) -> str:
        """Names the frame in file names and messages: `last`, `first`, `2.5s`."""
        return f"{self.frame:g}s" if isinstance(self.frame, float) else str(self.frame)


def parse(field: str, value: str) -> JobReference:
    """The reference a slot's value makes, or InvalidArguments saying what the slot takes instead."""
    kind = slot_kind(field)
    match = PATTERN.match(value)
    if kind == "audio":
        raise InvalidArguments(
            field, f"{echo(value)} names an earlier job, but audio slots take sound files only", "pass an MP3 or WAV"
        )
    if match is None:
        example = IMAGE_EXAMPLE if kind == "image" else VIDEO_EXAMPLE
        raise InvalidArguments(
            field, f"{echo(value)} is not a job reference this server knows", f"write it as {example}"
        )
    frame = match["frame"]
    if kind == "image" and frame is None:
        raise InvalidArguments(
            field,
            f"{value} is a whole video, and {field.split('[')[0]} takes an image",
            f"name one of its frames: {value}/frames/last, /frames/first or /frames/<seconds>",
        )
    if kind == "video" and frame is not None:
        whole = value.split("/frames/")[0]
        raise InvalidArguments(
            field, f"{value} is a single frame, and video_urls takes videos", f"pass the job's video: {whole}"
        )
    which: Which | None = (
        None if frame is None else "first" if frame == "first" else "last" if frame == "last" else float(frame)
    )
    return JobReference(field, match["id"], which)


def check(reference: JobReference, find: FindJob) -> JobRecord:
    """The finished job a reference names, or InvalidArguments: unknown, unfinished, failed, or too short."""
    field, request_id = reference.field, reference.request_id
    record = find(request_id)
    if record is None:
        raise InvalidArguments(
            field, f"no job {echo(request_id)!r} is in this server's ledger", "use a request_id from list_jobs"
        )
    if not record.finished:
        raise InvalidArguments(
            field,
            f"job {request_id} has not finished yet (status {record.status}), so it has no video to take from",
            f'call get_job with request_id="{request_id}" until it is completed, then call again',
        )
    if record.status != "completed" or not (record.result or {}).get("url"):
        raise InvalidArguments(
            field,
            f"job {request_id} {record.status} and made no video",
            'use a completed job from list_jobs(status="completed")',
        )
    duration = (record.result or {}).get("duration")
    if isinstance(duration, int | float):
        check_time(reference, duration)
    return record


def check_time(reference: JobReference, duration: float) -> None:
    """Refuse a time past the end of a video that lasts `duration` seconds."""
    if isinstance(reference.frame, float) and reference.frame > duration:
        raise InvalidArguments(
            reference.field,
            f"job {reference.request_id}'s video lasts {duration:g} s, so it has no frame at {reference.frame:g} s",
            f"pick a time from 0 to {duration:g}, or use /frames/last",
        )


def reference_problem(field: str, value: str, find: FindJob) -> Problem | None:
    """What is wrong with a `seedance://` value in `field`, or None when it names a usable video or frame."""
    try:
        check(parse(field, value), find)
    except InvalidArguments as exc:
        return exc.problems[0]
    return None
