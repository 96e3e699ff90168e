"""Runflow's asynchronous runs API: create a run, poll it, read its output, cancel it (providers.md §3).

`POST /v1/models/bytedance/seedance/2.0/{fast/}{mode}/runs` with `{"input": ...}` (fal's field names)
answers `{id, status_code}`; `GET /v1/runs/{id}` moves through queued, running, succeeded, failed or
canceled and carries `output` and `error{code,message}`. Runflow lists text-to-video and image-to-video
for Seedance 2.0, not reference-to-video, so that mode is refused before anything is sent. Cancelling
is `POST /v1/runs/{id}/cancel`, which Runflow's SDK does not show: unconfirmed, so a refusal of it is
read as "the run keeps going", never as a cancelled job.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx2

from server.catalog import Mode, Model
from server.catalog.checks import endpoint
from server.errors import (
    AuthenticationFailed,
    ConfigurationError,
    JobCancelled,
    JobFailed,
    ProviderError,
    ProviderUnavailable,
    RequestRejected,
)
from server.providers.base import CancelOutcome, Heard, Output, StatusUpdate, Submission
from server.providers.task_api import PolledHost, number
from server.webhooks import Refused
from server.webhooks.runflow import verify

logger = logging.getLogger(__name__)

MODES: tuple[Mode, ...] = ("text-to-video", "image-to-video")
STATES = {"queued": "queued", "running": "in_progress", "succeeded": "completed", "failed": "completed"}
DASHBOARD = "https://www.runflow.io/dashboard"


def _message(data: Any) -> str | None:
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for key in ("message", "detail"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return None


def error_from(response: httpx2.Response, data: Any, what: str) -> ProviderError:
    status = response.status_code
    said = _message(data) or f"HTTP {status}"
    if status in (401, 403):
        return AuthenticationFailed(
            f"Runflow rejected the API key (HTTP {status}) during {what}. Check RUNFLOW_API_KEY in this server's "
            "environment; nothing was charged.",
            status_code=status,
        )
    if status in (400, 404, 422):
        return RequestRejected(
            f"Runflow refused the {what}: {said}. Nothing was charged; fix the arguments and call again.",
            status_code=status,
        )
    return ProviderUnavailable(f"Runflow could not take the {what} right now ({said}); try again later.")


def find_video(output: Any) -> str | None:
    """The video URL in a run's output: fal's `{"video": {"url"}}`, or a bare URL or `{"url"}`."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and output:
        return find_video(output[0])
    if isinstance(output, dict):
        video = output.get("video")
        if video is not None:
            return find_video(video)
        for key in ("url", "video_url"):
            if isinstance(output.get(key), str):
                return str(output[key])
    return None


def _output(run: Mapping[str, Any]) -> Output:
    """A finished run's video, from its output (a run as read, or a callback, which has the same fields)."""
    output = run.get("output")
    url = find_video(output)
    if url is None:
        raise JobFailed("Runflow finished the run but its output holds no video URL")
    video = output.get("video") if isinstance(output, dict) else None
    video = video if isinstance(video, dict) else {}
    return Output(
        url=url,
        content_type=video.get("content_type") or "video/mp4",
        file_name=video.get("file_name"),
        file_size=number(video.get("file_size")),
        seed=number(output.get("seed")) if isinstance(output, dict) else None,
        raw=run,
    )


class Runflow(PolledHost):
    name = "runflow"
    # Unconfirmed: its runs return fal-shaped output, so fal's CDN, or its own.
    media_origins: tuple[str, ...] = ("https://fal.media", "https://*.fal.media", "https://*.runflow.io")
    host = "Runflow"
    dashboard = DASHBOARD
    error_from = staticmethod(error_from)

    def __init__(self, *args: Any, webhook_secrets: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._secrets = tuple(webhook_secrets)  # set when the server takes webhooks: Runflow signs with one
        self.calls_back = bool(self._secrets)

    def check(self, mode: Mode, model: Model, arguments: Mapping[str, Any]) -> None:
        if mode not in MODES:
            raise ConfigurationError(
                f"Runflow, the provider this server generates with, has no Seedance 2.0 {mode} model, so nothing "
                "was sent or charged. Use generate_text_video or animate_image, or ask the user to set "
                "SEEDANCE_PROVIDER to fal or ark (with that host's key) for reference_video."
            )

    async def submit(
        self, mode: Mode, model: Model, arguments: Mapping[str, Any], callback: str | None = None
    ) -> Submission:
        path = endpoint("runflow", model, mode)
        body: dict[str, Any] = {"input": dict(arguments)} | ({"callback_url": callback} if callback else {})
        run_id = await self._api.create(f"/v1/models/{path}/runs", body, path)
        return Submission(run_id, path, {"run_id": run_id})

    async def _run(self, handle: Mapping[str, str], what: str) -> dict[str, Any]:
        return await self._api.get(f"/v1/runs/{handle['run_id']}", what)

    async def _status(self, handle: Mapping[str, str]) -> StatusUpdate | None:
        run = await self._run(handle, "status")
        status = str(run.get("status_code"))
        if status == "canceled":
            return StatusUpdate("completed")  # result() tells the tracker it was cancelled
        state = STATES.get(status)
        if state is None:
            logger.warning("Runflow sent an unknown run status %r; polling on", status)
            return None
        error = None
        if status == "failed":
            error = f"Runflow reported the run failed: {_message(run) or 'no reason given'}"
        return StatusUpdate(state, error=error)  # type: ignore[arg-type]

    async def result(self, handle: Mapping[str, str]) -> Output:
        run = await self._run(handle, "result")
        if run.get("status_code") == "canceled":
            raise JobCancelled("Runflow confirmed the run was cancelled")
        if run.get("status_code") == "failed":
            raise JobFailed(f"Runflow reported the run failed: {_message(run) or 'no reason given'}")
        return _output(run)

    async def heard(self, request_id: str, handle: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Heard:
        """Runflow's callback, verified by its HMAC. A completed run's carries its output, so the job ends
        without another read; a failed or cancelled one is read once, which says best how it ended."""
        verify(headers, body, self._secrets)
        try:
            data = json.loads(body)
        except ValueError:
            raise Refused("its body is not JSON") from None
        if not isinstance(data, dict) or data.get("run_id") != handle["run_id"]:
            raise Refused("it is signed for another run")
        if data.get("event") == "run.completed":
            try:
                return Heard(StatusUpdate("completed"), _output(data))
            except JobFailed:
                pass
        return Heard(StatusUpdate("completed"))

    async def cancel(self, handle: Mapping[str, str]) -> CancelOutcome:
        response, data = await self._api.read("POST", f"/v1/runs/{handle['run_id']}/cancel", "cancel")
        if response.status_code == 404:
            return "not_found"
        if response.status_code >= 400:
            return "refused"
        status = data.get("status_code") if isinstance(data, dict) else None
        if status in ("succeeded", "failed"):
            return "too_late"
        return "cancelled"
