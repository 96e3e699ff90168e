"""BytePlus ModelArk's content-generation tasks, ByteDance's own API for Seedance 2.0 (providers.md §2).

`POST /contents/generations/tasks` takes a `content[]` array (the prompt, then media with their roles:
first_frame, last_frame, reference_image, reference_video, reference_audio) and JSON options; our
"auto" is `ratio: "adaptive"` and `duration: -1`. `GET /contents/generations/tasks/{id}` moves through
queued, running, succeeded, failed, cancelled or expired. `DELETE` cancels a queued task but deletes a
finished one's record, so cancel looks first and deletes only what is still queued. Images and audio
may be sent inline as data: URIs; reference videos only as URLs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx2

from server.catalog import DRAFT_COMPLETION, FIXED_RATIOS, RESOLUTIONS, Mode, Model, frame_size
from server.errors import (
    AuthenticationFailed,
    InvalidArguments,
    JobCancelled,
    JobFailed,
    ProviderError,
    ProviderUnavailable,
    RequestRejected,
)
from server.providers.base import CancelOutcome, Heard, Output, StatusUpdate, Submission
from server.providers.task_api import PolledHost, number
from server.settings import RetryPolicy

logger = logging.getLogger(__name__)

TASKS = "/contents/generations/tasks"
STATES = {"queued": "queued", "running": "in_progress"}
ENDED = frozenset({"succeeded", "failed", "cancelled", "expired"})
DASHBOARD = "https://console.byteplus.com/ark"
TASK_TYPES = {"reference": "reference", "editing": "edit", "extension": "extend"}  # fal's words, ModelArk's
ROLES = {
    "image_url": ("image_url", "first_frame"),
    "end_image_url": ("image_url", "last_frame"),
    "image_urls": ("image_url", "reference_image"),
    "video_urls": ("video_url", "reference_video"),
    "audio_urls": ("audio_url", "reference_audio"),
}


def explain(code: str | None, message: str | None) -> str:
    """A ModelArk error code in words the model can act on."""
    code = code or ""
    said = f" ({code}: {message})" if message else f" ({code})" if code else ""
    if code.startswith("OutputAudioSensitiveContentDetected"):
        return (
            f"BytePlus rejected the generated sound, which it does at random for some prompts{said}. A failed job is "
            "not billed. Call again with generate_audio=false."
        )
    if code.endswith("PrivacyInformation"):
        return (
            f"BytePlus refused the input because it seems to show a real person{said}. Use a picture without a real "
            "face, or a stylized one; real people must come from BytePlus's verified asset library."
        )
    if "Sensitive" in code or "Risk" in code or code == "ContentSecurityDetectionError":
        return f"BytePlus's content moderation refused the request{said}. Change the prompt or the media."
    if code.startswith("InvalidParameter"):
        field = code.partition(".")[2] or "a parameter"
        return f"BytePlus refused {field}{said}. Fix that argument and call again."
    return f"BytePlus reported an error{said or ' without details'}."


def _error(data: Any) -> tuple[str | None, str | None]:
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        return (str(code) if code else None, str(message) if message else None)
    return None, None


def error_from(response: httpx2.Response, data: Any, what: str) -> ProviderError:
    status = response.status_code
    code, message = _error(data)
    if status in (401, 403):
        return AuthenticationFailed(
            f"BytePlus rejected the API key (HTTP {status}) during {what}. Check ARK_API_KEY in this server's "
            "environment; nothing was charged.",
            status_code=status,
        )
    if status == 404 and what == "submit":
        return RequestRejected(
            f"BytePlus does not know the model{f' ({code}: {message})' if code else ''}. Check that the model "
            "is activated on the account (SEEDANCE_ARK_MODEL and SEEDANCE_ARK_FAST_MODEL name other ids for 2.0 and "
            "fast). Nothing was charged.",
            status_code=status,
        )
    if status in (400, 404, 422):
        return RequestRejected(f"{explain(code, message)} Nothing was charged.", status_code=status, error_type=code)
    return ProviderUnavailable(f"BytePlus could not take the {what} right now ({code or f'HTTP {status}'}).")


def prompt_text(prompt: str) -> str:
    """ModelArk names references "[Image 1]" where fal's schema writes "@Image1"."""
    return re.sub(r"@(Image|Video|Audio)(\d+)", r"[\1 \2]", prompt)


def request_body(model: str, mode: Mode, arguments: Mapping[str, Any]) -> dict[str, Any]:
    if mode == DRAFT_COMPLETION:  # the draft task alone: the final reuses its prompt, media, length and seed
        draft = {"type": "draft_task", "draft_task": {"id": arguments["draft_id"]}}
        return {"model": model, "content": [draft], "resolution": arguments["resolution"]}
    prompt = arguments.get("prompt")  # seedance-2.5 may go without one
    content: list[dict[str, Any]] = [{"type": "text", "text": prompt_text(str(prompt))}] if prompt else []
    for slot, (kind, role) in ROLES.items():
        value = arguments.get(slot)
        for url in value if isinstance(value, list) else [value] if value else []:
            content.append({"type": kind, kind: {"url": url}, "role": role})
    duration = arguments["duration"]
    body: dict[str, Any] = {
        "model": model,
        "content": content,
        "resolution": arguments["resolution"],
        "ratio": "adaptive" if arguments["aspect_ratio"] == "auto" else arguments["aspect_ratio"],
        "duration": -1 if duration == "auto" else int(duration),
        "generate_audio": arguments.get("generate_audio", True),
        "return_last_frame": True,  # the next shot starts on the host's own last frame, not one decoded here
    }
    if arguments.get("seed") is not None:
        body["seed"] = arguments["seed"]
    if arguments.get("draft"):
        body["draft"] = True
    if arguments.get("task") is not None:
        body["omni_reference_task_type"] = TASK_TYPES[arguments["task"]]
    if arguments.get("end_user_id"):
        body["safety_identifier"] = arguments["end_user_id"]
    return body


def _status_of(task: Mapping[str, Any]) -> StatusUpdate | None:
    status = str(task.get("status"))
    if status in STATES:
        return StatusUpdate(STATES[status])  # type: ignore[arg-type]
    if status in ("succeeded", "cancelled"):
        return StatusUpdate("completed")  # the result fetches the video, or says it was cancelled
    if status == "failed":
        return StatusUpdate("completed", error=explain(*_error(task)))
    if status == "expired":
        return StatusUpdate("completed", error="BytePlus dropped the task: it waited longer than it allows.")
    logger.warning("BytePlus sent an unknown task status %r; polling on", status)
    return None


def _output_of(task: Mapping[str, Any], task_id: str) -> Output:
    if task.get("status") == "cancelled":
        raise JobCancelled("BytePlus confirmed the task was cancelled")
    if task.get("status") != "succeeded":
        raise JobFailed(explain(*_error(task)))
    content = task.get("content")
    url = content.get("video_url") if isinstance(content, dict) else None
    last = content.get("last_frame_url") if isinstance(content, dict) else None
    if not isinstance(url, str):
        raise JobFailed("BytePlus finished the task but it holds no video URL")
    resolution, ratio = task.get("resolution"), task.get("ratio")
    size = frame_size(resolution, ratio) if resolution in RESOLUTIONS and ratio in FIXED_RATIOS else None
    return Output(
        url=url,
        content_type="video/mp4",
        seed=number(task.get("seed")),
        width=size[0] if size else None,
        height=size[1] if size else None,
        duration=number(task.get("duration")),
        draft_id=task_id if task.get("draft") is True else None,  # a draft is finished by its task id
        last_frame_url=last if isinstance(last, str) else None,
        raw=dict(task),
    )


class Ark(PolledHost):
    name = "ark"
    # Unconfirmed: content.video_url points at a TOS object storage bucket of the region.
    media_origins: tuple[str, ...] = ("https://*.bytepluses.com", "https://*.volces.com")
    host = "BytePlus ModelArk"
    dashboard = DASHBOARD
    error_from = staticmethod(error_from)

    def __init__(
        self,
        http: httpx2.AsyncClient,
        key: str,
        base_url: str,
        *,
        models: Mapping[Model, str],
        retry: RetryPolicy,
        timeout: float,
        poll_interval: tuple[float, float],
        calls_back: bool = False,
    ) -> None:
        super().__init__(http, key, base_url, retry=retry, timeout=timeout, poll_interval=poll_interval)
        self._models = dict(models)
        self.calls_back = calls_back  # with webhooks on: its callbacks are only ever a reason to fetch the task

    def check(self, mode: Mode, model: Model, arguments: Mapping[str, Any]) -> None:
        """Reference videos must be URLs: ModelArk takes only images and audio inline, as upload() sends them."""
        for index, url in enumerate(arguments.get("video_urls") or ()):
            if not str(url).startswith(("https://", "http://")):
                raise InvalidArguments(
                    f"video_urls[{index}]",
                    "BytePlus ModelArk takes reference videos only as public URLs, not as data: URIs or local files",
                    "pass an https:// URL of the clip",
                )

    async def submit(
        self, mode: Mode, model: Model, arguments: Mapping[str, Any], callback: str | None = None
    ) -> Submission:
        model_id = self._models[model]
        body = request_body(model_id, mode, arguments) | ({"callback_url": callback} if callback else {})
        task_id = await self._api.create(TASKS, body, model_id)
        return Submission(task_id, model_id, {"task_id": task_id})

    async def _task(self, handle: Mapping[str, str], what: str) -> dict[str, Any]:
        return await self._api.get(f"{TASKS}/{handle['task_id']}", what)

    async def _status(self, handle: Mapping[str, str]) -> StatusUpdate | None:
        return _status_of(await self._task(handle, "status"))

    async def result(self, handle: Mapping[str, str]) -> Output:
        return _output_of(await self._task(handle, "result"), handle["task_id"])

    async def heard(self, request_id: str, handle: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Heard:
        """ModelArk signs nothing, so nothing its callback says is believed, not even which task it names: a
        callback that says the task ended is only a reason to fetch the task with the key, once, and what
        that fetch says is applied. One that says it still runs is not worth a fetch and changes nothing."""
        try:
            said = json.loads(body).get("status")
        except (ValueError, AttributeError):
            said = None
        if said not in ENDED:
            return Heard(None)
        task = await self._task(handle, "status")
        update = _status_of(task)
        if update is None:
            return Heard(None)
        if update.state == "completed" and task.get("status") == "succeeded":
            return Heard(update, _output_of(task, handle["task_id"]))
        return Heard(update)

    async def cancel(self, handle: Mapping[str, str]) -> CancelOutcome:
        response, data = await self._api.read("GET", f"{TASKS}/{handle['task_id']}", "cancel")
        if response.status_code == 404:
            return "not_found"
        if response.status_code >= 400:
            raise error_from(response, data, "cancel")
        status = data.get("status") if isinstance(data, dict) else None
        if status == "running":
            return "refused"
        if status != "queued":
            return "too_late"  # DELETE would erase a finished task's record, video link and all
        response, data = await self._api.read("DELETE", f"{TASKS}/{handle['task_id']}", "cancel")
        if response.status_code >= 400:
            return "refused"  # it started meanwhile
        return "cancelled"
