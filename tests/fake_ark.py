"""The fake of BytePlus ModelArk's tasks API (see fake_task_host.py for what it shares with Runflow's)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fake_task_host import FakeHost, HostJob, error
from tests.fake_webhooks import Delivery

ARK_DONE = frozenset({"succeeded", "failed", "cancelled", "expired"})


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
                if set(body) <= {"model", "content", "resolution", "callback_url"}
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
        if isinstance(callback := body.get("callback_url"), str):
            self.webhooks.expect(job.id, callback)
        self.hook("submit")
        if late is not None:
            return self.answer("submit", self._fault(late))
        return self.answer("submit", JSONResponse({"id": job.id}), following="status")

    def _delivery(self, job_id: str, url: str, forged: bool) -> Delivery | None:
        """ModelArk's callback, unsigned: the task as a read gives it, once it has ended (a forged one is
        indistinguishable: see `lie`)."""
        found = self._job(job_id)
        if found is None or found[1] not in ARK_DONE:
            return None
        return Delivery(url, json.dumps(self._task(*found)).encode(), {"content-type": "application/json"})

    def lie(self, job_id: str) -> Delivery:
        """A callback to the job's webhook that claims it succeeded, whatever it is doing: anyone who learns
        the URL can send one, since ModelArk signs nothing."""
        found = self._job(job_id)
        assert found is not None
        task = self._task(found[0], "succeeded") | {"content": {"video_url": "https://elsewhere.example/x.mp4"}}
        return Delivery(self.webhooks.url_of(job_id), json.dumps(task).encode(), {"content-type": "application/json"})

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
