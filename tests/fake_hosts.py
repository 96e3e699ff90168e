"""Fakes of Runflow's runs API and BytePlus ModelArk's tasks API, served over real HTTP on 127.0.0.1.

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

import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.cdn import video_answer
from tests.fault_front import HOST_DOORS, TCP_FAULTS, FaultFront, FaultQueue, host_op
from tests.media import picture

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
        self.step += 1
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
        self.reset()
        self.app = Starlette(
            routes=[
                *self.routes(),
                Route("/files/{jid}/output.mp4", self.video_file),
                Route("/files/{jid}/last_frame.png", self.last_frame_file),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
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
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._front = FaultFront(
            sock.getsockname()[1], lambda op: self._take(op, TCP_FAULTS), doors=HOST_DOORS, op_of=host_op
        )
        self._front.start()
        self.doors = {door: f"http://127.0.0.1:{port}" for door, port in self._front.ports.items()}
        self.url = self.doors["api"]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._front is not None:
            self._front.stop()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)


RUNFLOW_DONE = frozenset({"succeeded", "failed", "canceled"})
ARK_DONE = frozenset({"succeeded", "failed", "cancelled", "expired"})


class FakeRunflow(FakeHost):
    cancelled_word = "canceled"
    MODELS = frozenset(
        f"bytedance/seedance/2.0/{model}{mode}"
        for model in ("", "fast/")
        for mode in ("text-to-video", "image-to-video")
    )

    def routes(self) -> list[Route]:
        return [
            Route("/v1/models/{model:path}/runs", self.create, methods=["POST"]),
            Route("/v1/runs/{jid}/cancel", self.cancel, methods=["POST"]),
            Route("/v1/runs/{jid}", self.get, methods=["GET"]),
        ]

    async def create(self, request: Request) -> Response:
        if not self._seen(request, "submit"):
            return error(401, "unauthorized", "invalid API key")
        model = request.path_params["model"]
        if model not in self.MODELS:
            return error(404, "model_not_found", f"model {model} not found")
        body = await request.json()
        if not isinstance(body.get("input"), dict) or not body["input"].get("prompt"):
            return error(422, "invalid_input", "input.prompt is required")
        late = self.submit_fault()
        if late is None and (refused := self.answer("submit", Response())).status_code >= 400:
            return refused  # the host refused it: no run
        job = self._new_job(f"run_{uuid.uuid4().hex[:12]}", model, body)
        self.hook("submit")
        if late is not None:
            return self.answer("submit", self._fault(late))
        answer = JSONResponse({"id": job.id, "status_code": "queued", "model": model}, status_code=201)
        return self.answer("submit", answer, following="status")

    def _run(self, job: HostJob, status: str) -> dict[str, Any]:
        run: dict[str, Any] = {"id": job.id, "status_code": status, "model": job.model, "output": None, "error": None}
        if status == "succeeded":
            video = {"url": self.video_url(job), "content_type": "video/mp4", "file_name": "output.mp4"}
            run["output"] = {"video": {**video, "file_size": len(self.video)}, "seed": job.body["input"].get("seed", 7)}
        elif status == "failed":
            code, message = job.error or ("internal_error", "the model crashed")
            run["error"] = {"code": code, "message": message}
        return run

    async def get(self, request: Request) -> Response:
        if not self._seen(request, "status"):
            return error(401, "unauthorized", "invalid API key")
        found = self._job(request.path_params["jid"])
        if found is None:
            return error(404, "not_found", "run not found")
        op, following = self._read_op(*found, RUNFLOW_DONE)
        self.hook(op)
        return self.read(found[0], op, JSONResponse(self._run(*found)), following)

    async def cancel(self, request: Request) -> Response:
        if not self._seen(request, "cancel"):
            return error(401, "unauthorized", "invalid API key")
        found = self._job(request.path_params["jid"])
        if found is None:
            return error(404, "not_found", "run not found")
        job, status = found
        if (refused := self.answer("cancel", Response())).status_code >= 400:
            return refused
        if status != "queued":
            return self.answer("cancel", error(409, "invalid_state", f"a {status} run cannot be canceled"))
        with self.lock:
            job.cancelled = True
        return self.answer("cancel", JSONResponse(self._run(job, "canceled")))


class FakeArk(FakeHost):
    MODELS = frozenset(  # lineup-2026.md §2.1
        {
            "dreamina-seedance-2-0-260128",
            "dreamina-seedance-2-0-fast-260128",
            "dreamina-seedance-2-0-mini-260615",
            "dreamina-seedance-2-5-260628",
        }
    )
    ROLES: ClassVar[dict[str, set[str]]] = {
        "image_url": {"first_frame", "last_frame", "reference_image"},
        "video_url": {"reference_video"},
        "audio_url": {"reference_audio"},
    }

    def routes(self) -> list[Route]:
        return [
            Route("/api/v3/contents/generations/tasks", self.create, methods=["POST"]),
            Route("/api/v3/contents/generations/tasks/{jid}", self.get, methods=["GET"]),
            Route("/api/v3/contents/generations/tasks/{jid}", self.delete, methods=["DELETE"]),
        ]

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v3"

    def _finishing(self, body: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        """A draft's final (lineup-2026.md §2.3): the draft task alone, of the same model, finished; the final
        reuses the draft's content, length and ratio. Anything else is returned as it came."""
        items = [item for item in body["content"] if item.get("type") == "draft_task"]
        if not items:
            return body
        if len(body["content"]) != 1:
            return error(400, "InvalidParameter.Content", "a draft_task must be the only content item")
        with self.lock:
            draft = self.jobs.get(str(items[0].get("draft_task", {}).get("id")))
            finished = draft is not None and draft.status(time.monotonic(), self.cancelled_word) == "succeeded"
        if draft is None or not draft.body.get("draft") or draft.model != body["model"] or not finished:
            return error(400, "InvalidParameter.DraftTask", "the draft task does not exist or cannot be used")
        return {**draft.body, "resolution": body["resolution"], "draft": False, "draft_task_id": draft.id}

    def _invalid(self, body: dict[str, Any]) -> JSONResponse | None:
        """The checks ModelArk makes before it creates a task (400, no task)."""
        if body.get("model") not in self.MODELS:
            return error(404, "InvalidEndpointOrModel.NotFound", f"The model {body.get('model')} does not exist")
        content = body.get("content")
        if not isinstance(content, list) or not content:
            return error(400, "InvalidParameter.Content", "content must not be empty")
        if body.get("draft") and "seedance-2-5" not in str(body["model"]):
            return error(400, "InvalidParameter.Draft", "draft is supported by Seedance 2.5 only")
        if content[0].get("type") == "draft_task":
            return (
                None
                if set(body) <= {"model", "content", "resolution"}
                else error(400, "InvalidParameter", "a draft's final takes only model, content and resolution")
            )
        if content[0].get("type") != "text" and "seedance-2-5" not in str(body["model"]):  # 2.5 may go without
            return error(400, "InvalidParameter.Content", "content must start with the text prompt")
        media = [item for item in content if item.get("type") != "text"]
        text = str(content[0].get("text", "")) if content[0].get("type") == "text" else ""
        roles = [item.get("role") for item in media]
        for item in media:
            kind = item.get("type")
            if item.get("role") not in self.ROLES.get(kind, set()):
                return error(400, "InvalidParameter.Role", f"role {item.get('role')} is not valid for {kind}")
            url = item[kind]["url"]
            if kind == "video_url" and not url.startswith("http"):
                return error(400, "InvalidParameter.VideoUrl", "video must be a URL")
        frames = {"first_frame", "last_frame"} & set(roles)
        if frames and set(roles) - frames:
            return error(400, "InvalidParameter", "first/last frame content cannot be mixed with reference media")
        if "last_frame" in roles and "first_frame" not in roles:
            return error(400, "InvalidParameter", "last_frame requires first_frame")
        if body.get("ratio") not in {"16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"}:
            return error(400, "InvalidParameter.Ratio", f"ratio {body.get('ratio')} is not supported")
        longest = 30 if "seedance-2-5" in str(body["model"]) else 15
        if not (body.get("duration") == -1 or 4 <= int(body.get("duration", 0)) <= longest):
            return error(400, "InvalidParameter.Duration", f"duration must be 4-{longest} or -1")
        if "real person" in text:
            return error(
                400, "InputImageSensitiveContentDetected.PrivacyInformation", "input image may contain real person"
            )
        return None

    async def create(self, request: Request) -> Response:
        if not self._seen(request, "submit"):
            return error(401, "AuthenticationError", "the API key is invalid")
        body = await request.json()
        invalid = self._invalid(body)
        if invalid is not None:
            return invalid
        body = self._finishing(body)
        if isinstance(body, JSONResponse):
            return body
        late = self.submit_fault()
        if late is None and (refused := self.answer("submit", Response())).status_code >= 400:
            return refused  # the host refused it: no task
        job = self._new_job(f"cgt-{uuid.uuid4().hex[:16]}", body["model"], body)
        self.hook("submit")
        if late is not None:
            return self.answer("submit", self._fault(late))
        return self.answer("submit", JSONResponse({"id": job.id}), following="status")

    def _task(self, job: HostJob, status: str) -> dict[str, Any]:
        body = job.body
        duration = 5 if body["duration"] == -1 else body["duration"]
        ratio = "16:9" if body["ratio"] == "adaptive" else body["ratio"]
        task: dict[str, Any] = {
            "id": job.id,
            "model": job.model,
            "status": status,
            "resolution": body["resolution"],
            "ratio": ratio,
            "duration": duration,
            "framespersecond": 24,
            "generate_audio": body.get("generate_audio", True),
            "seed": body.get("seed", 11),
            "draft": bool(body.get("draft")),
            "created_at": 1795000000,
            "updated_at": 1795000060,
        }
        if body.get("draft_task_id"):
            task["draft_task_id"] = body["draft_task_id"]
        if status == "succeeded":
            task["content"] = {"video_url": self.video_url(job)}
            if body.get("return_last_frame"):
                task["content"]["last_frame_url"] = f"{self.doors['cdn']}/files/{job.id}/last_frame.png"
            task["usage"] = {"completion_tokens": 108900, "total_tokens": 108900}
        elif status == "failed":
            code, message = job.error or ("InternalServiceError", "the service hit an internal error")
            task["error"] = {"code": code, "message": message}
        return task

    async def get(self, request: Request) -> Response:
        if not self._seen(request, "status"):
            return error(401, "AuthenticationError", "the API key is invalid")
        found = self._job(request.path_params["jid"])
        if found is None:
            return error(404, "ResourceNotFound", "the task does not exist")
        op, following = self._read_op(*found, ARK_DONE)
        self.hook(op)
        return self.read(found[0], op, JSONResponse(self._task(*found)), following)

    async def delete(self, request: Request) -> Response:
        if not self._seen(request, "delete"):
            return error(401, "AuthenticationError", "the API key is invalid")
        found = self._job(request.path_params["jid"])
        if found is None:
            return error(404, "ResourceNotFound", "the task does not exist")
        job, status = found
        if (refused := self.answer("cancel", Response())).status_code >= 400:
            return refused
        with self.lock:
            if status == "queued":
                job.cancelled = True
            elif status in ("succeeded", "failed", "expired"):
                job.deleted = True  # the record, and the link to its video, are gone
        if status not in ("queued", "succeeded", "failed", "expired"):
            return self.answer("cancel", error(400, "InvalidAction", f"a {status} task cannot be cancelled"))
        return self.answer("cancel", JSONResponse({}))
