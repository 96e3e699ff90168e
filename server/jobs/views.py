"""How a job looks to the model: structured content, a short text, and a link to the video."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path

from mcp.types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent
from pydantic import BaseModel, Field

from server.catalog import JobStatus, Mode, Model, ratio_of
from server.jobs import drafts
from server.jobs.progress import describe
from server.ledger import JobEvent, JobRecord
from server.media.copies import job_video, poster_of
from server.media.links import current_links
from server.money import pricing
from server.money.pricing import dollars
from server.trust import current_caller

JOB_URI = "seedance://jobs/{request_id}"
VIDEO_URI = "seedance://jobs/{request_id}/video"


class VideoFile(BaseModel):
    url: str = Field(
        description="Where the MP4 can be downloaded. From a server with a public URL: its own signed link, "
        "good for days, and get_job hands out a fresh one. Otherwise the host's link, which expires, or a file."
    )
    host_url: str | None = Field(
        default=None, description="The host's own link beside the server's signed one; it expires (ModelArk's: 24 h)."
    )
    poster_url: str | None = Field(default=None, description="A signed link to a JPEG of one frame.")
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = Field(default=None, description="Bytes, when the provider says.")
    width: int | None = None
    height: int | None = None
    duration: float | None = Field(default=None, description="Seconds, when the provider says.")
    saved_path: str | None = Field(default=None, description="The copy saved on this machine, with a JSON sidecar.")
    poster_path: str | None = Field(default=None, description="A JPEG of one frame, also sent as image content.")


class CostRange(BaseModel):
    min: float = Field(description="Lowest likely cost in USD.")
    max: float = Field(description="Highest likely cost in USD; equal to min when every option is fixed.")


class JobView(BaseModel):
    """A generation job as the ledger knows it."""

    request_id: str = Field(description="The provider's id for the job; pass it to get_job.")
    status: JobStatus
    provider: str
    endpoint: str
    mode: Mode
    model: Model
    progress: str = Field(description='What is happening now, e.g. "queued, position 3" or "generating, 41 s".')
    queue_position: int | None = None
    elapsed_seconds: float = Field(description="Seconds since the job was submitted.")
    video: VideoFile | None = Field(default=None, description="The finished video, once status is completed.")
    seed: int | None = Field(default=None, description="The seed the model used; reuse it to get a similar take.")
    estimated_cost_usd: CostRange = Field(description="What this job costs: 0 for an offline preview.")
    list_price_usd: CostRange = Field(
        description="What this job costs at its host's list price (for a preview: on fal, which it stands in for)."
    )
    price_basis: str = Field(description="How the host that ran it prices a job.")
    preview: bool = Field(
        default=False, description="True for an offline preview rendered on this machine: not Seedance output."
    )
    reused: bool = Field(
        default=False, description="True when an identical earlier call's job was returned instead of a new one."
    )
    error: str | None = Field(default=None, description="Why the job failed, or the last problem following it.")
    job_uri: str = Field(description="MCP resource with this job's full record.")
    next_step: str | None = Field(default=None, description="What to call next, when there is something to do.")
    created_at: str
    started: bool = Field(default=False, description="True once the host began generating (billing may start).")
    draft_id: str | None = Field(
        default=None,
        description="Set once a seedance-2.5 draft (draft=true) is made: its id at the host. complete_draft, given "
        "this job's request_id, renders the same take at 1080p.",
    )
    draft_expires_at: str | None = Field(default=None, description="Until when complete_draft can finish this draft.")
    finish_price_usd: CostRange | None = Field(
        default=None,
        description="For a draft that can still be finished: what complete_draft costs at the host's list price.",
    )
    draft_of: str | None = Field(
        default=None, description="For a job made by complete_draft: the request_id of the draft it renders at 1080p."
    )


class JobList(BaseModel):
    jobs: list[JobView] = Field(description="Newest first.")
    count: int


class JobDetail(JobView):
    """A job with the arguments it was submitted with and its event history (the job resource)."""

    arguments: dict[str, object]
    events: list[dict[str, object]]


class CardJob(JobView):
    """A job as the job card shows it: the plain view, what it was asked for, and how far it got."""

    arguments: dict[str, object] = Field(description="The arguments the job was submitted with.")
    last_log: str | None = Field(default=None, description="The newest line of the host's log.")
    generating_seconds: float | None = Field(default=None, description="Seconds since generation started.")
    version: float = Field(description="When the ledger last changed this job; watch_job waits for a newer one.")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _video(record: JobRecord) -> VideoFile | None:
    """The job's video; for a remote caller without the server's paths: a file on this machine is named by
    its resource instead, since the disk is not the caller's."""
    result = record.result or {}
    if not result.get("url"):
        return None
    video = VideoFile.model_validate(result)
    if not current_caller().remote:
        return video
    hidden = {"saved_path": None, "poster_path": None}
    links = current_links()
    if links is not None and job_video(result) is not None:  # a copy the server keeps: its own link serves it
        host = video.url if video.url.startswith(("https://", "http://")) else None
        poster = links.poster("jobs", record.request_id) if poster_of(result) else None
        return video.model_copy(
            update=hidden | {"url": links.video("jobs", record.request_id), "host_url": host, "poster_url": poster}
        )
    url = VIDEO_URI.format(request_id=record.request_id) if video.url.startswith("file:") else video.url
    return video.model_copy(update=hidden | {"url": url})


def job_view(record: JobRecord, now: float | None = None) -> JobView:
    now = time.time() if now is None else now
    result = record.result or {}
    video = _video(record)
    price = CostRange(min=record.estimate_min_usd, max=record.estimate_max_usd)
    if record.cost_usd is not None:  # finished: by the video it made
        price = CostRange(min=record.cost_usd, max=record.cost_usd)
    next_step = None
    if not record.finished:
        next_step = f'Call get_job with request_id="{record.request_id}" to wait for the video.'
    until = drafts.expires_at(record)
    finish = None
    if until is not None and now < until:
        final = drafts.completion_estimate(record)
        finish = CostRange(min=final.min_usd, max=final.max_usd)
        cost = "free, as an offline preview" if record.preview else f"for {dollars(finish.min, finish.max)}"
        next_step = (
            f'To keep this take, call complete_draft with request_id="{record.request_id}": it renders it at 1080p '
            f"{cost}, until {drafts.day_of(until)}."
        )
    return JobView(
        request_id=record.request_id,
        status=record.status,
        provider=record.provider,
        endpoint=record.endpoint,
        mode=record.mode,
        model=record.model,
        progress=describe(record, now),
        queue_position=record.queue_position,
        elapsed_seconds=round((record.finished_at or now) - record.created_at, 1),
        video=video,
        seed=result.get("seed"),
        estimated_cost_usd=CostRange(min=0, max=0) if record.preview else price,
        list_price_usd=price,
        price_basis=pricing.basis(record.provider, record.model, record.arguments.get("resolution", "720p")),
        preview=record.preview,
        error=record.error,
        job_uri=JOB_URI.format(request_id=record.request_id),
        next_step=next_step,
        created_at=_iso(record.created_at),
        started=record.started_at is not None,
        draft_id=drafts.draft_id(record),
        draft_expires_at=None if until is None else _iso(until),
        finish_price_usd=finish,
        draft_of=record.draft_of,
    )


def job_detail(record: JobRecord, events: list[JobEvent]) -> JobDetail:
    return JobDetail(
        **job_view(record).model_dump(),
        arguments=record.arguments,
        events=[{"at": _iso(e.at), "event": e.event, "detail": e.detail} for e in events],
    )


def card_view(record: JobRecord) -> CardJob:
    now = time.time()
    generating = now - record.started_at if record.started_at and not record.finished else None
    return CardJob(
        **job_view(record, now).model_dump(),
        arguments=record.arguments,
        last_log=record.last_log,
        generating_seconds=None if generating is None else round(generating, 1),
        version=record.updated_at,
    )


PREVIEW_NOTE = (
    "This is an offline preview rendered on this machine by the local backend, not Seedance output; it cost "
    "nothing. The same job on fal would cost {cost}."
)


def _summary(view: JobView, arguments: dict[str, object]) -> str:
    text = _status_text(view, arguments)
    if view.preview:
        cost = dollars(view.list_price_usd.min, view.list_price_usd.max)
        return f"{text}\n{PREVIEW_NOTE.format(cost=cost)}"
    return text


def what_was_made(video: VideoFile, arguments: dict[str, object]) -> str:
    """The clip's length, size and shape as made, not as asked: "auto" is settled once there is a video."""
    if video.duration:
        seconds = f"{video.duration:.1f}".removesuffix(".0") + " s"
    elif arguments.get("duration") == "auto":
        seconds = "length chosen by the model"
    else:
        seconds = f"{arguments.get('duration')} s"
    if video.width and video.height:
        ratio = ratio_of(video.width, video.height)
        return f"{seconds}, {video.width}x{video.height} ({arguments.get('resolution')}{', ' + ratio if ratio else ''})"
    shape = arguments.get("aspect_ratio")
    return f"{seconds}, {arguments.get('resolution')}, {'shape chosen by the model' if shape == 'auto' else shape}"


def _status_text(view: JobView, arguments: dict[str, object]) -> str:
    cost = dollars(view.estimated_cost_usd.min, view.estimated_cost_usd.max)
    ident = f"request_id {view.request_id} on {view.endpoint}"
    match view.status:
        case "completed":
            assert view.video is not None
            shape = what_was_made(view.video, arguments)
            seed = f", seed {view.seed}" if view.seed is not None else ""
            kind = "Preview" if view.preview else "Video"
            kind = f"{kind} draft ready" if view.draft_id else f"{kind} ready"
            after = f"\n{view.next_step}" if view.next_step else ""
            return f"{kind} ({shape}): {view.video.url}\n({ident}{seed}; estimated cost {cost}){after}"
        case "failed":
            return f"The job failed ({ident}): {view.error}"
        case "cancelled" if view.preview:
            return f"The preview was cancelled ({ident}). Previews are free."
        case "cancelled" if view.started:
            return f"The job was cancelled after it had started generating ({ident}); the host may still bill it."
        case "cancelled":
            return f"The job was cancelled before it started ({ident}): nothing is billed."
        case _:
            problem = f"\nLast problem while following it: {view.error}" if view.error else ""
            return (
                f"Still running after {view.elapsed_seconds:.0f} s ({view.progress}; {ident}; estimated cost {cost}). "
                "This is not an error: the job keeps running and is saved in the ledger. "
                f'Call get_job with request_id="{view.request_id}" to keep waiting for the video.{problem}'
            )


REUSED_NOTE = (
    "An identical call already started this job {ago:.0f} s ago, so it was returned instead of submitting and "
    "paying again. For a new take of the same request, call again with force_new=true.\n"
)


def on_this_computer(saved_path: str | None, poster_path: str | None, title: str) -> list[ContentBlock]:
    """A link to the saved MP4 and the poster as an image, for whichever of the two is on disk; the link only
    for the person on this computer, since a remote caller cannot open the server's files."""
    blocks: list[ContentBlock] = []
    saved = Path(saved_path) if saved_path else None
    if saved is not None and saved.is_file() and not current_caller().remote:
        blocks.append(
            ResourceLink(
                type="resource_link",
                uri=saved.as_uri(),
                name=saved.name,
                title=f"{title}, saved on this computer",
                mime_type="video/mp4",
                size=saved.stat().st_size,
            )
        )
    poster = Path(poster_path) if poster_path else None
    if poster is not None and poster.is_file():
        data = base64.b64encode(poster.read_bytes()).decode()
        blocks.append(ImageContent(type="image", data=data, mime_type="image/jpeg"))
    return blocks


def job_result(record: JobRecord, *, reused: bool = False, note: str | None = None) -> CallToolResult:
    """The tool result for a job: text, a resource_link to the video when there is one, structured content.

    One rule for every tool that answers with a job: the result is an error exactly when the job failed,
    since the video the model asked about will never exist. Running, queued and cancelled jobs are not."""
    view = job_view(record).model_copy(update={"reused": reused})
    lead = REUSED_NOTE.format(ago=time.time() - record.created_at) if reused else ""
    tail = f"\n{note}" if note else ""
    content: list[ContentBlock] = [TextContent(type="text", text=lead + _summary(view, record.arguments) + tail)]
    if view.video is not None:
        title = "Offline preview (not Seedance output)" if view.preview else "Seedance video"
        content.append(
            ResourceLink(
                type="resource_link",
                uri=view.video.url,
                name=view.video.file_name or f"{view.request_id}.mp4",
                title=title,
                mime_type=view.video.content_type or "video/mp4",
                size=view.video.file_size,
            )
        )
        result = record.result or {}
        content += on_this_computer(result.get("saved_path"), result.get("poster_path"), title)
    return CallToolResult(
        content=content,
        structured_content=view.model_dump(mode="json"),
        is_error=view.status == "failed",
    )
