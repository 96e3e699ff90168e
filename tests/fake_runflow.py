"""The fake of Runflow's runs API (see fake_task_host.py for what it shares with ModelArk's)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.webhooks.runflow import signature
from tests.fake_task_host import FakeHost, HostJob, error
from tests.fake_webhooks import Delivery

RUNFLOW_DONE = frozenset({"succeeded", "failed", "canceled"})
EVENTS = {"succeeded": "run.completed", "failed": "run.failed", "canceled": "run.cancelled"}
SECRET = "whsec_fake_runflow_0123456789abcdef0123456789"  # what it signs callbacks with, as Runflow's does


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
        if isinstance(callback := body.get("callback_url"), str):
            self.webhooks.expect(job.id, callback)
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

    def _delivery(self, job_id: str, url: str, forged: bool) -> Delivery | None:
        found = self._job(job_id)
        if found is None or found[1] not in RUNFLOW_DONE:
            return None
        run = self._run(*found)
        body = {"event": EVENTS[found[1]], "run_id": job_id, "status": found[1], "output": run["output"]}
        content = json.dumps({**body, "error": run["error"], "duration_ms": 1200, "metadata": {}}).encode()
        signed = signature("whsec_not_runflows_own_secret_0123456789" if forged else SECRET, content)
        headers = {"content-type": "application/json", "runflow-signature": signed, "runflow-request-id": job_id}
        return Delivery(url, content, headers)

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
