"""Every media value a call carries, checked before anything leaves the process.

Local paths and data: URIs are read and judged by their bytes here, `seedance://` references to earlier
jobs against the ledger; URLs must be https://, which the schema's pattern already demands, and name a
public address, and before a job is submitted their first bytes are read and judged too (`urls`). What
a caller may name at all (which files, which hosts) is `server.trust`'s to decide.
All wrong fields are reported together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import anyio

from server.catalog import DEFAULT_MODEL, References
from server.errors import InvalidArguments, Problem
from server.inputs.data_uris import check_data_uri
from server.inputs.files import LocalFile, check_file, local_path
from server.inputs.formats import MAX_BYTES, MB, SLOTS, sniff
from server.inputs.judge import Judged
from server.inputs.limits import LONGEST_CLIPS, reference_bounds
from server.inputs.mentions import prompt_problems
from server.inputs.references import PATTERN, PREFIX, FindJob, find_jobs, reference_problem
from server.inputs.spelling import path_problem, url_problem
from server.inputs.urls import check_url
from server.trust import Refused, Trust, current_caller
from server.trust.network import CallerHttp
from server.trust.paths import INSTEAD

if TYPE_CHECKING:
    from server.ledger import Ledger

__all__ = ["SLOTS", "LocalFile", "check_media", "jobs_named", "local_path", "media_problems", "sniff"]


def _values(arguments: Mapping[str, object], skip: Iterable[str]) -> Iterable[tuple[str, str]]:
    """(field, value) for every media value, with list items named `slot[index]`."""
    skipped = set(skip)
    for slot in (s for s in SLOTS if s not in skipped):
        value = arguments.get(slot)
        if isinstance(value, str):
            yield slot, value
        elif isinstance(value, list | tuple):
            yield from ((f"{slot}[{i}]", item) for i, item in enumerate(value) if isinstance(item, str))


async def jobs_named(ledger: Ledger, arguments: Mapping[str, object]) -> FindJob:
    """The jobs the call's `seedance://` references name, for the checks below."""
    return await find_jobs(ledger, (m["id"] for _, value in _values(arguments, ()) if (m := PATTERN.match(value))))


async def _host_problem(field: str, url: str, trust: Trust) -> Problem | None:
    try:
        await trust.guard.check_url(url)
    except Refused as refused:
        fix = INSTEAD.replace("an https:// URL", "a public https:// URL")
        return Problem(field, f"its host {refused}, which neither this server nor the video host fetches from", fix)
    return None


async def _read_urls(urls: list[tuple[str, str]], http: CallerHttp) -> tuple[list[Judged], list[Problem]]:
    """Every URL's first bytes judged, all at once, so the wait is one URL's however many there are."""
    judged: list[Judged] = []
    problems: list[Problem] = []

    async def read(field: str, url: str) -> None:
        try:
            if (found := await check_url(field, url, http)) is not None:
                judged.append(found)
        except InvalidArguments as exc:
            problems.extend(exc.problems)

    async with anyio.create_task_group() as tg:
        for field, url in urls:
            tg.start_soon(read, field, url)
    return judged, sorted(problems, key=lambda p: [f for f, _ in urls].index(p.field))


async def _inspect(
    arguments: Mapping[str, object],
    trust: Trust,
    find: FindJob,
    skip: Iterable[str] = (),
    http: CallerHttp | None = None,
) -> tuple[list[LocalFile], list[Problem]]:
    caller = current_caller()
    files: list[LocalFile] = []
    inline: list[Judged] = []
    urls: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for field, value in _values(arguments, skip):
        problem: Problem | None = None
        try:
            if value.startswith(PREFIX):
                problem = reference_problem(field, value, find)
            elif value.startswith("data:"):
                inline.append(check_data_uri(field, value))
            elif value.startswith("https://"):
                problem = url_problem(field, value) or await _host_problem(field, value, trust)
                urls += [(field, value)] if problem is None and http is not None else []
            elif local_path(value) is not None:
                problem = path_problem(field, value)
                files += [] if problem else [check_file(field, value, trust, caller)]
        except InvalidArguments as exc:
            problems += exc.problems
        problems += [problem] if problem else []
    if urls and http is not None:
        remote, wrong = await _read_urls(urls, http)
        inline += remote
        problems += wrong
    judged: list[LocalFile | Judged] = [*files, *inline]
    video_bytes = sum(m.size or 0 for m in judged if m.kind == "video")
    if video_bytes > MAX_BYTES["video"]:
        problems.append(
            Problem(
                "video_urls",
                f"the reference videos add up to {video_bytes / MB:.1f} MB, above 50 MB",
                "pass shorter clips",
            )
        )
    model, bounds = arguments.get("model"), reference_bounds(arguments.get("model"))
    problems += _clip_problems(judged, bounds, str(model or DEFAULT_MODEL))
    problems += _total_problems(judged, _referenced_seconds(arguments, find, skip), bounds)
    problems += prompt_problems(arguments, skip)
    return files, problems


def _referenced_seconds(arguments: Mapping[str, object], find: FindJob, skip: Iterable[str]) -> list[float]:
    """The lengths of the earlier jobs' videos that the call's video slot names, as the ledger has them."""
    found = []
    for field, value in _values(arguments, skip):
        if field.startswith("video_urls") and (match := PATTERN.match(value)) and (job := find(match["id"])):
            seconds = (job.result or {}).get("duration")
            found += [float(seconds)] if isinstance(seconds, int | float) else []
    return found


def _clip_problems(media: Iterable[LocalFile | Judged], bounds: References, model: str) -> list[Problem]:
    """Each clip against the chosen model's bounds (the file's own check took the widest any model has)."""
    low, high = bounds.clip_seconds
    longer = f', or use model "{LONGEST_CLIPS}"' if model != LONGEST_CLIPS else ""
    return [
        Problem(
            m.field,
            f"the {m.kind} clip lasts {m.seconds:.1f} s, and {model} takes {low:g} to {high:g} s",
            f"pass a clip of {low:g} to {high:g} s" + longer,
            f"each {m.kind} clip {low:g} to {high:g} s",
        )
        for m in media
        if m.kind in ("video", "audio") and m.seconds is not None and not low <= m.seconds <= high
    ]


def _total_problems(media: Iterable[LocalFile | Judged], referenced: list[float], bounds: References) -> list[Problem]:
    """The clips of each kind together, against the total the hosts document."""
    found = []
    for kind, slot in (("video", "video_urls"), ("audio", "audio_urls")):
        seconds = [m.seconds for m in media if m.kind == kind and m.seconds is not None]
        seconds += referenced if kind == "video" else []
        most = bounds.total_seconds
        if sum(seconds) > most:
            found.append(
                Problem(
                    slot,
                    f"the reference {kind} clips last {sum(seconds):.1f} s together",
                    "pass fewer or shorter clips",
                    f"{most:g} s of {kind} in all",
                )
            )
    return found


async def media_problems(
    arguments: Mapping[str, object], trust: Trust, find: FindJob, skip: Iterable[str] = ()
) -> list[Problem]:
    """What is wrong with the call's media, leaving out the slots in `skip`; empty when all is well."""
    return (await _inspect(arguments, trust, find, skip))[1]


async def check_media(
    arguments: Mapping[str, object], trust: Trust, find: FindJob, http: CallerHttp
) -> list[LocalFile]:
    """The call's local files, each checked; InvalidArguments names every wrong media field at once.

    References to earlier jobs are checked here too, and turned into files later (`earlier_jobs.resolve`);
    URLs are read here only, through `http`, once the cheaper checks (which run on every call) pass."""
    files, problems = await _inspect(arguments, trust, find, http=http)
    if problems:
        raise InvalidArguments.of(problems)
    return files
