"""A fake of fal's queue API, served over real HTTP on 127.0.0.1, following fal-queue-protocol.md.

Submit goes to the full endpoint id; status, stream, result and cancel live under owner/app and are
handed out as URLs in the submit answer. Status is 202 while pending and 200 when done, the stream sends
`data:` events and `: ping` comments and closes after COMPLETED, a failed job is COMPLETED with an
`error`, or COMPLETED followed by a 422 from the result, and cancel answers 202/400/404.

Each job walks through `Phase`s; a phase with no duration holds until the test calls `advance()`.
The fake runs in its own thread and event loop, so everything shared is guarded by a lock.

`inject(op, fault)` makes the next request to an operation (submit, status, stream, result, cancel) fail:
HTTP faults are answered here (`HTTP_FAULTS`), network faults by the TCP front (`fault_front.py`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.cdn import video_answer
from tests.fake_fal_hooks import FalWebhooks
from tests.fake_fal_jobs import (
    HTTP_FAULTS,
    SHAPE_FAULTS,
    FakeJob,
    Outcome,
    Phase,
    StreamMode,
    fault_response,
    quick_plan,
)
from tests.fake_fal_storage import FalStorage
from tests.fake_webhooks import Deliveries
from tests.fal_schemas import DRAFT_COMPLETE, violations
from tests.fal_signing import FalSigner
from tests.fault_front import TCP_FAULTS, FaultFront, FaultQueue
from tests.threaded import Served

__all__ = ["FakeFal", "FakeJob", "Phase", "quick_plan"]  # what the tests import from here


class FakeFal(FalWebhooks, FaultQueue):
    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.storage = FalStorage(key)
        self.signer = FalSigner()  # signs its webhooks; its JWKS is served at `jwks_url`
        self.webhooks = Deliveries(self._delivery)
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/{owner}/{alias}/requests/{rid}/status/stream", self.stream, methods=["GET"]),
                Route("/{owner}/{alias}/requests/{rid}/status", self.status, methods=["GET"]),
                Route("/{owner}/{alias}/requests/{rid}/cancel", self.cancel, methods=["PUT"]),
                Route("/{owner}/{alias}/requests/{rid}", self.result, methods=["GET"]),
                Route("/files/{rid}/output.mp4", self.video_file, methods=["GET"]),
                *self.storage.routes(),
                Route("/.well-known/jwks.json", self.jwks, methods=["GET"]),
                Route("/{path:path}", self.submit, methods=["POST"]),
            ]
        )
        self.url = ""
        self.video = b""  # the MP4 every finished job links to (set by the tests' session fixture)
        self.doors: dict[str, str] = {}
        self._served: Served | None = None
        self._front: FaultFront | None = None

    # -- test controls ------------------------------------------------------------------------------

    def reset(self) -> None:
        if getattr(self, "_front", None) is not None:
            self._front.reopen_all()  # type: ignore[union-attr]
        with self.lock:
            self.jobs: dict[str, FakeJob] = {}
            self.requests: list[tuple[str, str]] = []
            self.refused: list[tuple[str, dict[str, Any]]] = []  # bodies its endpoint's schema did not take
            self.downloads: list[str] = []  # paths of finished videos fetched from the CDN door
            self.plan: list[Phase] = quick_plan()
            self.outcome: Outcome = "ok"
            self.stream_mode: StreamMode = "ok"
            self.ping_seconds = 0.2
            self.stream_tick = 0.02  # how often the stream looks at its job
            self.drafts: dict[str, str] = {}  # draft_id -> the request that made it (§1.4, §1.5)
            self.storage.reset()
            self.webhooks.reset()
            self.faults: dict[str, deque[str]] = {}
            self.on_event: Callable[[str], None] | None = None
            self.ranges = True  # False: the CDN answers every range request with the whole file
            self.link_lifetime: int | None = None  # downloads a video link answers before it expires (403)
            self.submits_held: threading.Event | None = None  # set: submits are answered once it is set

    def inject(self, op: str, fault: str, times: int = 1) -> None:
        """Make the next `times` requests to `op` fail with `fault`; "refused" closes its door until `reopen()`."""
        if fault == "refused":
            assert self._front is not None
            self._front.refuse({"stream": "status", "download": "cdn"}.get(op, op))
            return
        assert fault in HTTP_FAULTS | SHAPE_FAULTS | TCP_FAULTS, fault
        self.queue_fault(op, fault, times)

    def reopen(self) -> None:
        """Every closed door listening again, at once."""
        assert self._front is not None
        self._front.reopen_all()

    def advance(self, request_id: str) -> None:
        """End the phase the job is holding in (timed phases before it are first played out)."""
        with self.lock:
            self.jobs[request_id].end_held(time.monotonic())

    def count(self, kind: str | None = None) -> int:
        with self.lock:
            return len([r for r in self.requests if kind is None or r[0] == kind])

    def job(self, request_id: str) -> FakeJob:
        with self.lock:
            return self.jobs[request_id]

    def only_job(self) -> FakeJob:
        with self.lock:
            (job,) = self.jobs.values()
            return job

    def _urls(self, job: FakeJob) -> dict[str, str]:
        path = f"{job.app}/requests/{job.request_id}"
        return {
            "response_url": f"{self.doors['result']}/{path}",
            "status_url": f"{self.doors['status']}/{path}/status",
            "cancel_url": f"{self.doors['cancel']}/{path}/cancel",
        }

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Key {self.key}"

    def _unauthorized(self) -> Response:
        return JSONResponse({"detail": "Invalid key"}, status_code=401, headers={"x-fal-request-id": "none"})

    def _find(self, request: Request, kind: str) -> FakeJob | Response:
        rid = request.path_params["rid"]
        app = f"{request.path_params['owner']}/{request.path_params['alias']}"
        with self.lock:
            self.requests.append((kind, request.url.path))
            job = self.jobs.get(rid)
            if job is not None:
                job.tick(time.monotonic())
        if not self._authorized(request):
            return self._unauthorized()
        fault = self._take(kind, HTTP_FAULTS)
        if fault == "gone" or job is None or job.app != app:
            return JSONResponse({"detail": "Request not found"}, status_code=404)
        if fault is not None:
            return fault_response(fault, rid)
        return job

    def _status_body(self, job: FakeJob, logs: list[str] | None, bare: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"request_id": job.request_id, **self._urls(job), "metrics": {}}
        entries = [{"message": m, "level": "INFO", "timestamp": "2026-11-21T12:00:00"} for m in logs or ()]
        if bare:  # alternately without a timestamp and without either
            entries = [{"message": e["message"], **({"level": "INFO"} if i % 2 else {})} for i, e in enumerate(entries)]
        body["logs"] = None if logs is None else entries
        if job.done or job.cancelled:
            body["status"] = "COMPLETED"
            body["metrics"] = {"inference_time": 1.5}
            if job.outcome == "error" and not job.cancelled:
                body["error"], body["error_type"] = "Runner disconnected", "runner_disconnected"
        else:
            phase = job.phases[job.phase]
            body["status"] = phase.status
            if phase.status == "IN_QUEUE":
                body["queue_position"] = phase.queue_position or 0
        return body

    async def submit(self, request: Request) -> Response:
        endpoint = request.path_params["path"]
        with self.lock:
            self.requests.append(("submit", request.url.path))
        if not self._authorized(request):
            return self._unauthorized()
        segments = endpoint.split("/")
        if len(segments) < 2:
            return JSONResponse({"detail": "Application not found"}, status_code=404)
        if (held := self.submits_held) is not None:  # as a busy host is slow to answer, until the test says
            await anyio.to_thread.run_sync(held.wait, 300.0)  # a bound only for a test that never lets go
        fault = self._take("submit", HTTP_FAULTS)
        if fault is not None and not (fault.endswith("-ingress") or fault == "malformed"):
            return fault_response(fault, None)  # fal refused it: no job
        body = await request.json()
        if (wrong := violations(endpoint, body)) or (wrong := self._draft_problems(endpoint, body)):
            with self.lock:
                self.refused.append((endpoint, body))
            return JSONResponse({"detail": wrong}, status_code=422)
        rid = str(uuid.uuid4())
        with self.lock:
            job = FakeJob(rid, endpoint, "/".join(segments[:2]), body, list(self.plan), self.outcome)
            self.jobs[rid] = job
            first = job.phases[0] if job.phases else None
        if (webhook := request.query_params.get("fal_webhook")) is not None:
            self.webhooks.expect(rid, webhook)
        self.hook("submit")
        if fault is not None:  # the job exists, but the answer is a gateway error or garbage
            return fault_response(fault, rid)
        body = {"status": "IN_QUEUE", "request_id": rid, "queue_position": first.queue_position if first else 0}
        return JSONResponse({**body, **self._urls(job)}, headers={"x-fal-request-id": rid})

    def _draft_problems(self, endpoint: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """draft/complete takes only a draft this key made (validity and expiry are fal's to judge)."""
        if endpoint != DRAFT_COMPLETE:
            return []
        if "draft_id" not in body:
            return [{"loc": ["body", "draft_id"], "msg": "Field required", "type": "missing"}]
        with self.lock:
            known = body["draft_id"] in self.drafts
        return [] if known else [{"loc": ["body", "draft_id"], "msg": "Draft not found", "type": "value_error"}]

    def hook(self, event: str) -> None:
        """Called when fal has accepted a job ("submit", before answering), opens a stream ("stream") or is
        asked for a result ("result", before answering); the crash test kills the server here."""
        if self.on_event is not None:
            self.on_event(event)

    async def status(self, request: Request) -> Response:
        found = self._find(request, "status")
        if isinstance(found, Response):
            return found
        with_logs = request.query_params.get("logs") in ("1", "true")
        bare = self._take("status", frozenset({"bare-logs"})) is not None
        with self.lock:
            body = self._status_body(found, list(found.logs) if with_logs else None, bare)
        code = 200 if body["status"] == "COMPLETED" else 202
        return JSONResponse(body, status_code=code, headers={"x-fal-request-id": found.request_id})

    async def stream(self, request: Request) -> Response:
        found = self._find(request, "stream")
        if isinstance(found, Response):
            return found
        if self.stream_mode == "fail":
            return JSONResponse({"detail": "stream unavailable"}, status_code=500)
        self.hook("stream")
        job = found
        shape = self._take("stream", SHAPE_FAULTS) or ("close-early" if self.stream_mode == "close_early" else None)
        close_early = shape == "close-early"

        async def events() -> AsyncIterator[bytes]:
            sent_logs = 0
            last: tuple[str, int | None] | None = None
            last_sent = time.monotonic()
            if shape == "unknown-status":
                yield f"data: {json.dumps({'status': 'WARMING_UP', 'request_id': job.request_id})}\n\n".encode()
            while True:
                with self.lock:
                    job.tick(time.monotonic())
                    body = self._status_body(job, job.logs[sent_logs:], bare=shape == "bare-logs")
                    sent_logs = len(job.logs)
                key = (body["status"], body.get("queue_position"))
                if key != last or body["logs"]:
                    last, last_sent = key, time.monotonic()
                    event = f"data: {json.dumps(body)}\n\n".encode()
                    if shape == "split-event":  # every event in two reads, cut inside the JSON
                        yield event[: len(event) // 2]
                        await anyio.sleep(self.stream_tick)
                        event = event[len(event) // 2 :]
                    yield event
                    if body["status"] == "COMPLETED" or close_early:
                        return
                elif time.monotonic() - last_sent >= self.ping_seconds:
                    last_sent = time.monotonic()
                    yield b": ping\n\n"
                await anyio.sleep(self.stream_tick)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"x-fal-request-id": job.request_id})

    async def result(self, request: Request) -> Response:
        found = self._find(request, "result")
        if isinstance(found, Response):
            return found
        job = found
        self.hook("result")
        headers = {"x-fal-request-id": job.request_id}
        if job.cancelled:
            body = {"detail": "Request was cancelled", "error_type": "client_cancelled"}
            return JSONResponse(body, status_code=499, headers={**headers, "x-fal-error-type": "client_cancelled"})
        if not job.done:
            return JSONResponse({"detail": "Request is still in progress"}, status_code=400, headers=headers)
        if job.outcome == "invalid":
            detail = [{"loc": ["body", "image_url"], "msg": "Unsupported image format", "type": "value_error"}]
            return JSONResponse({"detail": detail}, status_code=422, headers=headers)
        if job.outcome == "error":
            body = {"detail": "Runner disconnected", "error_type": "runner_disconnected"}
            return JSONResponse(body, status_code=503, headers=headers)
        answer = self._output(job)
        if self._take("result", frozenset({"bare-video"})) is not None:
            del answer["video"]["content_type"], answer["video"]["file_size"]
        return JSONResponse(answer, headers=headers)

    async def cancel(self, request: Request) -> Response:
        found = self._find(request, "cancel")
        if isinstance(found, Response):
            return found
        with self.lock:
            if found.done or found.cancelled:
                return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
            if found.started:  # fal forwards the cancel to the app; this one ignores it and finishes
                return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)
            found.cancelled = True
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    async def video_file(self, request: Request) -> Response:
        """The CDN copy of a finished job's video."""
        with self.lock:
            expired = self.link_lifetime is not None and self.downloads.count(request.url.path) >= self.link_lifetime
            self.downloads.append(request.url.path)  # the CDN's, not the queue's: kept out of `requests`
        fault = "expired" if expired else self._take("download", HTTP_FAULTS | {"broken"})
        return video_answer(request, self.video, fault, lambda f: fault_response(f, None), ranges=self.ranges)

    @property
    def uploads(self) -> list[tuple[str, str, bytes]]:
        """Files uploaded to the CDN: (file name, content type, bytes)."""
        return self.storage.uploads

    def publish(self, name: str, data: bytes) -> str:
        with self.storage.lock:
            self.storage.assets[name] = data
        return f"{self.url}/assets/{name}"

    def start(self) -> FakeFal:
        self._served = Served(self.app, lambda op: self._take(op, TCP_FAULTS))
        self._front = self._served.front
        self.doors = self._served.doors
        self.url = self.doors["submit"]
        self.cdn = self.doors["cdn"]  # where finished videos are served: another origin than the queue
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        if self._served is not None:
            self._served.stop()
