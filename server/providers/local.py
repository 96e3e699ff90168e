"""The offline preview backend: a labelled stand-in MP4 rendered on this machine, free and without network.

It lives the same life as a fal job (queued, in progress with log lines, completed) so the whole flow
can be tried before paying. One render runs at a time; the others wait, each person's taking turns with
everyone else's (`server/preview/turns.py`). The
renderer's heavy imports (PyAV, NumPy, Pillow) happen on the first render, not at server start.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import AsyncGenerator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.abc import TaskGroup

from server.catalog import (
    DRAFT_COMPLETION,
    FINAL_RESOLUTION,
    MAX_SEED,
    Mode,
    Model,
    Resolution,
    frame_size,
    ratio_of,
)
from server.catalog.checks import endpoint
from server.errors import JobCancelled, JobFailed, RequestRejected
from server.folders import HOME, writing
from server.inputs import LocalFile
from server.preview.choices import auto_ratio, auto_seconds
from server.preview.inputs import fetch
from server.preview.turns import Turns
from server.providers.base import CancelOutcome, Heard, Output, ProviderState, StatusUpdate, Submission
from server.trust.network import CallerHttp
from server.trust.owners import current_person
from server.webhooks import Refused

logger = logging.getLogger(__name__)

PROGRESS_FRAMES = 6  # a quarter second of video at 24 fps: smooth progress, few ledger writes
RENDER_SLOTS = 1  # renders are CPU-bound and already use both cores
INTERRUPTED = "the preview render was interrupted when the server stopped; previews are free, so generate it again"


@dataclass
class _Job:
    request_id: str
    mode: Mode
    arguments: dict[str, Any]
    path: Path
    state: ProviderState = "queued"
    logs: list[str] = field(default_factory=list)
    fraction: float | None = None
    error: str | None = None
    cancelled: bool = False
    changed: anyio.Event = field(default_factory=anyio.Event)


def _image_size(data: bytes, field_name: str) -> tuple[int, int]:
    from server.preview.pictures import size_of

    try:
        return size_of(data)
    except ValueError as exc:
        raise JobFailed(f"`{field_name}` is not an image the preview can read (use JPEG, PNG or WebP)") from exc


class LocalPreview:
    name = "local"
    preview = True
    calls_back = False  # a preview is made in this process, which hears of its end directly
    media_origins: tuple[str, ...] = ()  # previews are files on this machine: the card reads them through the server

    def __init__(self, folder: Path, http: CallerHttp, task_group: TaskGroup) -> None:
        self._folder = folder
        self._http = http  # callers' URLs, through the guard
        self._tg = task_group
        self._jobs: dict[str, _Job] = {}
        self._turns = Turns(RENDER_SLOTS)

    # -- the provider interface ---------------------------------------------------------------------

    def check(self, mode: Mode, model: Model, arguments: Mapping[str, Any]) -> None:
        """Every mode and input form the tools accept; what each model takes is the catalog's check."""

    async def submit(
        self, mode: Mode, model: Model, arguments: Mapping[str, Any], callback: str | None = None
    ) -> Submission:
        with writing(self._folder, HOME):
            self._folder.mkdir(parents=True, exist_ok=True)
        request_id = f"preview-{uuid.uuid4()}"
        drawn, what = (mode, dict(arguments)) if mode != DRAFT_COMPLETION else self._final_of(arguments["draft_id"])
        job = _Job(request_id, drawn, what, self._folder / f"{request_id}.mp4")
        self._jobs[request_id] = job
        self._turns.join(current_person().name or "", request_id)  # each person's renders take turns
        self._tg.start_soon(self._run, job, name=f"render {request_id}")
        handle = {"request_id": request_id, "video": str(job.path)}
        return Submission(request_id, endpoint("local", model, mode), handle, self._turns.position(request_id))

    async def follow(self, handle: Mapping[str, str]) -> AsyncGenerator[StatusUpdate, None]:
        job = self._jobs.get(handle["request_id"])
        if job is None:  # started by an earlier process: a finished render outlives it as its file
            done = Path(handle["video"]).with_suffix(".json").exists()
            yield StatusUpdate("completed", error=None if done else INTERRUPTED)
            return
        sent = 0
        while True:
            changed = job.changed
            finished = job.state == "completed"
            position = self._turns.position(job.request_id)
            error = job.error if finished else None
            yield StatusUpdate(job.state, position, tuple(job.logs[sent:]), error, job.fraction)
            sent = len(job.logs)
            if finished:
                return
            await changed.wait()

    def _final_of(self, draft_id: str) -> tuple[Mode, dict[str, Any]]:
        """What a draft renders again at full size: its mode and arguments, with the length, shape and seed it
        took, as the hosts keep them."""
        try:
            kept = json.loads((self._folder / f"{draft_id}.draft.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            raise RequestRejected(f"the preview draft {draft_id} is gone from SEEDANCE_HOME") from None
        return kept["mode"], kept["arguments"]

    async def result(self, handle: Mapping[str, str]) -> Output:
        job = self._jobs.get(handle["request_id"])
        if job is not None and job.cancelled:
            raise JobCancelled("the preview render was cancelled")
        if job is not None and job.error:
            raise JobFailed(job.error)
        sidecar = Path(handle["video"]).with_suffix(".json")
        try:
            return Output(**json.loads(sidecar.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise JobFailed("the preview file is gone from SEEDANCE_HOME") from None

    async def upload(self, file: LocalFile) -> str:
        """The file's checked bytes, kept in this backend's own folder under their hash: the render reads
        that copy, never the caller's path, which may lead elsewhere by the time the render starts."""
        kept = self._folder / "inputs" / f"{file.sha256()}{Path(file.name).suffix.lower()[:8]}"

        def write() -> None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            if not kept.is_file():
                part = kept.with_name(f"{kept.name}.{uuid.uuid4().hex}.part")
                part.write_bytes(file.data)
                part.replace(kept)

        with writing(kept.parent, HOME):
            await anyio.to_thread.run_sync(write)
        return kept.as_uri()

    async def heard(self, request_id: str, handle: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Heard:
        raise Refused("a preview is made on this server, and nothing calls back about it")

    async def cancel(self, handle: Mapping[str, str]) -> CancelOutcome:
        job = self._jobs.get(handle["request_id"])
        if job is None:
            return "too_late" if Path(handle["video"]).exists() else "not_found"
        if job.state == "completed":
            return "too_late"
        job.cancelled = True  # a render in progress sees this between two frames and stops
        if self._turns.waiting(job.request_id):
            self._turns.leave(job.request_id)
            self._update(job, state="completed")
            return "cancelled"
        return "stopping"  # certain, and this machine's own work: its end is on its way

    # -- rendering ----------------------------------------------------------------------------------

    def _update(
        self, job: _Job, *, log: str | None = None, state: ProviderState | None = None, fraction: float | None = None
    ) -> None:
        if log:
            job.logs.append(log)
        if fraction is not None:
            job.fraction = fraction
        if state:
            job.state = state
        job.changed.set()
        job.changed = anyio.Event()

    async def _run(self, job: _Job) -> None:
        from server.preview.render import FPS, RenderCancelled, render

        def progress(done: int, total: int) -> None:
            if done % PROGRESS_FRAMES == 0 or done == total:
                line = f"rendered {done // FPS} s of {total // FPS} s" if done % FPS == 0 else None
                anyio.from_thread.run_sync(lambda: self._update(job, log=line, fraction=done / total))

        try:
            if await self._turns.take(job.request_id) and not job.cancelled:
                self._update(job, state="in_progress", log="preparing the offline preview")
                spec = await self._spec(job)
                audio = ", with sound" if spec.audio else ""
                self._update(job, log=f"rendering {spec.width}x{spec.height}, {spec.seconds} s at {FPS} fps{audio}")
                try:
                    await anyio.to_thread.run_sync(
                        lambda: render(spec, job.path, progress, lambda: job.cancelled), abandon_on_cancel=True
                    )
                except anyio.get_cancelled_exc_class():
                    job.cancelled = True  # the server is stopping: the abandoned render stops at its next frame
                    raise
                output = Output(
                    url=job.path.as_uri(),
                    content_type="video/mp4",
                    file_name=job.path.name,
                    file_size=job.path.stat().st_size,
                    seed=spec.seed,
                    width=spec.width,
                    height=spec.height,
                    duration=float(spec.seconds),
                    draft_id=job.request_id if job.arguments.get("draft") else None,
                )
                if output.draft_id:
                    self._keep_draft(job, spec)
                sidecar = {k: v for k, v in asdict(output).items() if k != "raw"}
                job.path.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
                logger.info("preview %s rendered to %s", job.request_id, job.path)
        except RenderCancelled:
            logger.info("preview %s cancelled while rendering", job.request_id)
        except JobFailed as exc:
            job.error = str(exc)
        except Exception as exc:
            logger.exception("preview %s failed", job.request_id)
            job.error = f"the preview render failed ({type(exc).__name__})"
        finally:
            self._turns.leave(job.request_id)
            self._update(job, state="completed")

    def _keep_draft(self, job: _Job, spec: Any) -> None:
        final = {**job.arguments, "resolution": FINAL_RESOLUTION, "duration": str(spec.seconds), "seed": spec.seed}
        final["aspect_ratio"] = ratio_of(spec.width, spec.height) or job.arguments["aspect_ratio"]
        del final["draft"]
        kept = {"mode": job.mode, "arguments": final}
        job.path.with_suffix(".draft.json").write_text(json.dumps(kept), encoding="utf-8")

    async def _spec(self, job: _Job) -> Any:
        from server.preview.render import RenderSpec

        args = job.arguments
        images: list[tuple[str, str]] = []
        if job.mode == "image-to-video":
            images = [("image_url", args["image_url"])]
        elif job.mode == "reference-to-video":
            images = [(f"image_urls[{i}]", url) for i, url in enumerate(args.get("image_urls") or ())]
        data = [await fetch(url, name, self._http) for name, url in images]
        sizes = [
            await anyio.to_thread.run_sync(_image_size, d, name) for d, (name, _) in zip(data, images, strict=True)
        ]
        end = None
        if args.get("end_image_url"):
            end = await fetch(args["end_image_url"], "end_image_url", self._http)
            await anyio.to_thread.run_sync(_image_size, end, "end_image_url")
        ratio = args["aspect_ratio"]
        if ratio == "auto":
            ratio = auto_ratio(sizes[0] if job.mode == "image-to-video" else None)
        # A 4k preview would take minutes to draw: it is drawn at 1080p, the largest size it shows well.
        resolution: Resolution = "1080p" if args["resolution"] == "4k" else args["resolution"]
        width, height = frame_size(resolution, ratio)
        prompt = str(args.get("prompt") or "")
        seconds = auto_seconds(prompt) if args["duration"] == "auto" else int(args["duration"])
        seed = args["seed"] if args.get("seed") is not None else random.randint(0, MAX_SEED)
        return RenderSpec(
            job.mode, prompt, width, height, seconds, bool(args["generate_audio"]), seed, tuple(data), end
        )
