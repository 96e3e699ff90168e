"""Fakes of Runflow's runs API and BytePlus ModelArk's tasks API, served over real HTTP on 127.0.0.1.

Both follow providers.md: Runflow creates runs at `/v1/models/{model}/runs` (`{"input": ...}`) and
reports them at `/v1/runs/{id}` with `status_code` queued, running, succeeded, failed or canceled;
ModelArk takes `content[]` with roles at `/contents/generations/tasks` and reports `status` queued,
running, succeeded, failed, cancelled or expired, and its DELETE cancels a queued task but erases a
finished one. Each job walks through `Step`s in the host's own words; a step with no duration holds
until the test calls `advance()`. Errors come back in the hosts' `{"error": {"code", "message"}}` shape.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.cdn import serve


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


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class FakeHost:
    """What both fakes share: jobs, their scripts, the test controls, and serving."""

    cancelled_word = "cancelled"

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.video = b""
        self.url = ""
        self.reset()
        self.app = Starlette(routes=[*self.routes(), Route("/files/{jid}/output.mp4", self.video_file)])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def reset(self) -> None:
        with self.lock:
            self.jobs: dict[str, HostJob] = {}
            self.requests: list[tuple[str, str]] = []
            self.plan: list[Step] = [Step("queued", 0.05), Step("running", 0.1)]
            self.final = "succeeded"
            self.error: tuple[str, str] | None = None

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
        return f"{self.url}/files/{job.id}/output.mp4"

    async def video_file(self, request: Request) -> Response:
        return serve(request, self.video, "video/mp4")

    def start(self) -> FakeHost:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
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
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)


class FakeRunflow(FakeHost):
    cancelled_word = "canceled"
    MODELS = frozenset(
        f"bytedance/seedance/2.0/{tier}{mode}" for tier in ("", "fast/") for mode in ("text-to-video", "image-to-video")
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
        job = self._new_job(f"run_{uuid.uuid4().hex[:12]}", model, body)
        return JSONResponse({"id": job.id, "status_code": "queued", "model": model}, status_code=201)

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
        return JSONResponse(self._run(*found))

    async def cancel(self, request: Request) -> Response:
        if not self._seen(request, "cancel"):
            return error(401, "unauthorized", "invalid API key")
        found = self._job(request.path_params["jid"])
        if found is None:
            return error(404, "not_found", "run not found")
        job, status = found
        if status != "queued":
            return error(409, "invalid_state", f"a {status} run cannot be canceled")
        with self.lock:
            job.cancelled = True
        return JSONResponse(self._run(job, "canceled"))


class FakeArk(FakeHost):
    MODELS = frozenset({"dreamina-seedance-2-0-260128", "dreamina-seedance-2-0-fast-260128"})
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

    def _invalid(self, body: dict[str, Any]) -> JSONResponse | None:
        """The checks ModelArk makes before it creates a task (400, no task)."""
        if body.get("model") not in self.MODELS:
            return error(404, "InvalidEndpointOrModel.NotFound", f"The model {body.get('model')} does not exist")
        content = body.get("content")
        if not isinstance(content, list) or not content or content[0].get("type") != "text":
            return error(400, "InvalidParameter.Content", "content must start with the text prompt")
        roles = [item.get("role") for item in content[1:]]
        for item in content[1:]:
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
        if not (body.get("duration") == -1 or 4 <= int(body.get("duration", 0)) <= 15):
            return error(400, "InvalidParameter.Duration", "duration must be 4-15 or -1")
        if "real person" in content[0]["text"]:
            return error(
                400, "InputImageSensitiveContentDetected.PrivacyInformation", "input image may contain real person"
            )
        return None

    async def create(self, request: Request) -> Response:
        if not self._seen(request, "submit"):
            return error(401, "AuthenticationError", "the API key is invalid")
        body = await request.json()
        refused = self._invalid(body)
        if refused is not None:
            return refused
        job = self._new_job(f"cgt-{uuid.uuid4().hex[:16]}", body["model"], body)
        return JSONResponse({"id": job.id})

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
            "created_at": 1795000000,
            "updated_at": 1795000060,
        }
        if status == "succeeded":
            task["content"] = {"video_url": self.video_url(job)}
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
        return JSONResponse(self._task(*found))

    async def delete(self, request: Request) -> Response:
        if not self._seen(request, "delete"):
            return error(401, "AuthenticationError", "the API key is invalid")
        found = self._job(request.path_params["jid"])
        if found is None:
            return error(404, "ResourceNotFound", "the task does not exist")
        job, status = found
        with self.lock:
            if status == "queued":
                job.cancelled = True
            elif status in ("succeeded", "failed", "expired"):
                job.deleted = True  # the record, and the link to its video, are gone
            else:
                return error(400, "InvalidAction", f"a {status} task cannot be cancelled")
        return JSONResponse({})
