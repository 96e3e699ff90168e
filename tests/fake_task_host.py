"""What the fakes of Runflow's runs API and BytePlus ModelArk's tasks API share, served over real HTTP on 127.0.0.1.

Both follow providers.md: Runflow creates runs at `/v1/models/{model}/runs` (`{"input": ...}`) and
reports them at `/v1/runs/{id}` with `status_code` queued, running, succeeded, failed or canceled;
ModelArk takes `content[]` with roles at `/contents/generations/tasks` and reports `status` queued,
running, succeeded, failed, cancelled or expired, and its DELETE cancels a queued task but erases a
finished one. Each job walks through `Step`s in the host's own words; a step with no duration holds
until the test calls `advance()`. Errors come back in the hosts' `{"error": {"code", "message"}}` shape.

Both sit behind a TCP front (`fault_front.py`) with an "api" door and a "cdn" door for finished videos,
so `inject(op, fault)` can make one operation fail: submit, status (a poll), result (the read after the
poll that saw the job finish), cancel, or download. Each answer names its operation for the front.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.cdn import video_answer
from tests.fake_webhooks import Deliveries, Delivery
from tests.fault_front import HOST_DOORS, TCP_FAULTS, FaultFront, FaultQueue, host_op
from tests.media import picture
from tests.threaded import Served

# Answers a host gives instead of the real one. "-gateway" is a proxy's page in front of the host, without
# the host's JSON: a submit that meets it may have created its job.
HTTP_FAULTS = frozenset(
    {"429", "429-retry-after", "500", "502", "503", "504", "502-gateway", "504-gateway", "malformed", "gone"}
)
LAST_FRAME = picture((864, 496), (200, 30, 160), (250, 250, 250))
GATEWAY_PAGE = "<html><body><h1>{code} Bad Gateway</h1></body></html>"


@dataclass(frozen=True)
class Step:
    status: str
    seconds: float | None  # None: hold until advance()


@dataclass
class HostJob:
    id: str
    model: str
    body: dict[str, Any]
    steps: list[Step]
    final: str  # the host's word for how it ends: succeeded, failed, expired
    error: tuple[str, str] | None
    step: int = 0
    step_started: float = field(default_factory=time.monotonic)
    cancelled: bool = False
    deleted: bool = False
    reported_final: bool = False  # the poll that saw it finish has been answered: later reads are the result

    def status(self, now: float, cancelled_word: str) -> str:
        if self.cancelled:
            return cancelled_word
        while self.step < len(self.steps):
            current = self.steps[self.step]
            if current.seconds is None or now - self.step_started < current.seconds:
                return current.status
            self.step_started += current.seconds
            self.step += 1
        return self.final

    def advance(self) -> None:
        """End the step the job holds in (the first untimed one), playing out at once any timed step still
        before it: a test may advance a job sooner than its first steps take."""
        held = next((n for n in range(self.step, len(self.steps)) if self.steps[n].seconds is None), self.step)
        self.step = held + 1
        self.step_started = time.monotonic()


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class FakeHost(FaultQueue):
    """What both fakes share: jobs, their scripts, the test controls, and serving."""

    cancelled_word = "cancelled"

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.video = b""
        self.url = ""
        self.webhooks = Deliveries(self._delivery)  # for a host that calls back (see its `_delivery`)
        self.reset()
        self.app = Starlette(
            routes=[
                *self.routes(),
                Route("/files/{jid}/output.mp4", self.video_file),
                Route("/files/{jid}/last_frame.png", self.last_frame_file),
            ]
        )
        self._served: Served | None = None
        self._front: FaultFront | None = None
        self.doors: dict[str, str] = {}
        self.on_event: Callable[[str], None] | None = None  # the crash test kills the server here

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def reset(self) -> None:
        with self.lock:
            self.jobs: dict[str, HostJob] = {}
            self.requests: list[tuple[str, str]] = []
            self.downloads: list[str] = []  # paths of finished videos fetched from the CDN door
            self.plan: list[Step] = [Step("queued", 0.05), Step("running", 0.1)]
            self.final = "succeeded"
            self.error: tuple[str, str] | None = None
            self.faults: dict[str, deque[str]] = {}
            self.last_frames_kept = True  # False: the host's last-frame links answer 404, as after 24 h
        self.webhooks.reset()
        if getattr(self, "_front", None) is not None:
            self.reopen()

    # -- faults -------------------------------------------------------------------------------------

    def inject(self, op: str, fault: str, times: int = 1) -> None:
        """The next `times` requests to `op` fail with `fault`; "refused" closes its door until `reopen()`."""
        assert self._front is not None
        if fault == "refused":
            if op == "submit":
                self._front.refuse("api")
            elif op == "download":
                self._front.refuse("cdn")
            elif op in ("status", "result"):
                self._front.refuse_before(op)  # just before the request it names: the door is then shut
            return  # a cancel is refused by refuse_now(), when the test cancels
        assert fault in HTTP_FAULTS | TCP_FAULTS | {"broken"}, fault
        self.queue_fault(op, fault, times)

    def refuse_now(self) -> None:
        assert self._front is not None
        self._front.refuse("api")

    def reopen(self) -> None:
        assert self._front is not None
        self._front.reopen_all()

    def _fault(self, fault: str) -> Response:
        code = int(fault[:3]) if fault[:3].isdigit() else 200
        if fault.startswith("429"):
            headers = {"retry-after": "1"} if fault == "429-retry-after" else {}
            return error(429, "rate_limited", "too many requests", headers)
        if fault.endswith("-gateway"):
            return Response(GATEWAY_PAGE.format(code=code), status_code=code, media_type="text/html")
        if fault == "gone":
            return error(404, "not_found", "no such job")
        if fault == "malformed":
            return Response('{"id": "run_', media_type="application/json")
        return error(code, "internal_error", "the service hit an internal error")

    def answer(self, op: str, response: Response, following: str | None = None) -> Response:
        """`response`, or the fault injected for `op`; named for the front either way."""
        fault = self._take(op, HTTP_FAULTS)
        if fault is not None:
            response = self._fault(fault)
        response.headers["x-fake-op"] = op
        if following and fault is None:
            response.headers["x-fake-next"] = following
        return response

    def read(self, job: HostJob, op: str, response: Response, following: str | None) -> Response:
        """A read of the job, answered (or faulted) as `op`. Once the poll that sees it finished has reached
        the client, later reads are the result. A faulted answer (garbage with a 200 included, or one the
        front will reset or hold) never reaches it, so the client's retry is still a status poll and meets
        the next fault staged for it, however late it comes."""
        answer = self.answer(op, response, following)
        if "x-fake-next" in answer.headers and self.next_fault(op) not in TCP_FAULTS:
            job.reported_final = True
        return answer

    def hook(self, event: str) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _read_op(self, job: HostJob, status: str, terminal: frozenset[str]) -> tuple[str, str | None]:
        """Whether a read of the job is a status poll or the result, and what comes after it."""
        if status not in terminal:
            return "status", None
        if job.reported_final:
            return "result", None
        return "status", "result"

    def submit_fault(self) -> str | None:
        """A fault for a submit that fails after the job exists (a gateway page, garbage), taken up front."""
        return self._take("submit", frozenset({"502-gateway", "504-gateway", "malformed"}))

    def count(self, kind: str | None = None) -> int:
        with self.lock:
            return len([r for r in self.requests if kind is None or r[0] == kind])

    def only_job(self) -> HostJob:
        with self.lock:
            (job,) = self.jobs.values()
            return job

    def advance(self, job_id: str) -> None:
        with self.lock:
            self.jobs[job_id].advance()

    def _seen(self, request: Request, kind: str) -> bool:
        with self.lock:
            self.requests.append((kind, request.url.path))
        return request.headers.get("authorization") == f"Bearer {self.key}"

    def _new_job(self, job_id: str, model: str, body: dict[str, Any]) -> HostJob:
        with self.lock:
            job = HostJob(job_id, model, body, list(self.plan), self.final, self.error)
            self.jobs[job_id] = job
        return job

    def _job(self, job_id: str) -> tuple[HostJob, str] | None:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job.deleted:
                return None
            return job, job.status(time.monotonic(), self.cancelled_word)

    def _delivery(self, job_id: str, url: str, forged: bool) -> Delivery | None:
        """The callback for a job that has ended; None before, or for a host that does not call back."""
        return None

    def video_url(self, job: HostJob) -> str:
        return f"{self.doors['cdn']}/files/{job.id}/output.mp4"

    async def video_file(self, request: Request) -> Response:
        with self.lock:
            self.downloads.append(request.url.path)  # the CDN's, not the queue's: kept out of `requests`
        fault = self._take("download", HTTP_FAULTS | {"broken"})
        return video_answer(request, self.video, fault, self._fault)

    async def last_frame_file(self, request: Request) -> Response:
        """ModelArk's `last_frame_url`: a PNG the size of the video, unlike any frame of the fake's clip."""
        with self.lock:
            self.downloads.append(request.url.path)
            kept = self.last_frames_kept
        return Response(LAST_FRAME, media_type="image/png") if kept else Response(status_code=404)

    def start(self) -> FakeHost:
        self._served = Served(self.app, lambda op: self._take(op, TCP_FAULTS), doors=HOST_DOORS, op_of=host_op)
        self._front = self._served.front
        self.doors = self._served.doors
        self.url = self.doors["api"]
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        if self._served is not None:
            self._served.stop()
