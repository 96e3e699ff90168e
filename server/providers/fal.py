"""fal.ai's queue API: submit, follow the SSE status stream (polling if it fails), fetch, cancel.

The status, result and cancel URLs are taken verbatim from the submit answer: they live under the app
(`bytedance/seedance-2.0`), not the endpoint's sub-path, and building them by hand is a known source of
405s. With a working stream a job costs three requests (submit, stream, result) whatever its length.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio
import httpx2

from server import __version__, metrics
from server.catalog import Mode, Model
from server.catalog.checks import endpoint as endpoint_of
from server.errors import JobFailed, ProviderError, ProviderUnavailable, SubmitUncertain
from server.inputs import LocalFile
from server.providers.base import CancelOutcome, Heard, Output, StatusUpdate, Submission
from server.providers.fal_errors import error_from_response, explain, result_error
from server.providers.fal_storage import FalStorage
from server.providers.retry import NEVER_SENT, send_with_retries
from server.settings import RetryPolicy
from server.webhooks import Refused

if TYPE_CHECKING:
    from server.webhooks.fal import FalKeys

logger = logging.getLogger(__name__)

STREAM_IDLE_SECONDS = 45.0  # fal sends `: ping` about every 15 s; three missed pings means the stream is dead
POLL_INTERVAL = (1.0, 5.0)  # first and longest pause between status polls once the stream is gone
DASHBOARD = "https://fal.ai/dashboard/requests"
DEFAULT_REST_URL = "https://rest.fal.ai"
HANDLE_KEYS = ("status_url", "response_url", "cancel_url")
STATES = {"IN_QUEUE": "queued", "IN_PROGRESS": "in_progress", "COMPLETED": "completed"}


def parse_status(data: Mapping[str, Any]) -> StatusUpdate | None:
    """One status object (polled or streamed) as a `StatusUpdate`; None for a status this server does not
    know, which fal may add at any time: the job is then followed on as before."""
    state = STATES.get(str(data.get("status")))
    if state is None:
        logger.warning("fal sent an unknown job status %r; following the job on", data.get("status"))
        return None
    logs = tuple(
        str(entry["message"]) for entry in data.get("logs") or () if isinstance(entry, dict) and entry.get("message")
    )
    error = None
    if state == "completed" and (data.get("error") or data.get("error_type")):
        error = explain(data.get("error_type"), data.get("error"))
    position = data.get("queue_position")
    return StatusUpdate(
        state=state,  # type: ignore[arg-type]
        queue_position=position if isinstance(position, int) else None,
        logs=logs,
        error=error,
    )


def parse_output(data: Any) -> Output:
    video = data.get("video") if isinstance(data, dict) else None
    if not isinstance(video, dict) or not isinstance(video.get("url"), str):
        raise JobFailed("fal finished the job but its result holds no video URL")

    def number(value: Any) -> Any:
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    return Output(
        url=video["url"],
        content_type=video.get("content_type"),
        file_name=video.get("file_name"),
        file_size=number(video.get("file_size")),
        seed=number(data.get("seed")),
        width=number(video.get("width")),
        height=number(video.get("height")),
        duration=number(video.get("duration")),
        draft_id=data["draft_id"] if isinstance(data.get("draft_id"), str) else None,
        raw=data,
    )


def _never(response: httpx2.Response) -> bool:
    return False


def _own_timeout(response: httpx2.Response) -> bool:
    """A 504 for the request's own start timeout: the job failed at fal, and asking again will not change it."""
    return response.headers.get("x-fal-request-timeout-type") == "user"


def _is_json(response: httpx2.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def _uncertain(endpoint: str, why: str) -> SubmitUncertain:
    return SubmitUncertain(
        f"The submit to fal reached the network but {why}, so the job may exist at fal (and be billed) without "
        f"this server knowing its request_id. It was not sent again. Look for a {endpoint} request at {DASHBOARD} "
        "before calling again: calling again starts, and bills, a second job (pass force_new=true to do that)."
    )


class FalQueue:
    """The fal queue client. Holds the key privately and never puts it in a message or a log line."""

    preview = False
    media_origins: tuple[str, ...] = ("https://fal.media", "https://*.fal.media")  # v3.fal.media, v3b.fal.media

    def __init__(
        self,
        http: httpx2.AsyncClient,
        key: str,
        queue_url: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        poll_interval: tuple[float, float] = POLL_INTERVAL,
        rest_url: str = DEFAULT_REST_URL,
        name: str = "fal",
        keys: FalKeys | None = None,
    ) -> None:
        self.name = name  # "fal-us": the same queue, sending jobs to the models' US copies
        self._http = http
        self._headers = {"Authorization": f"Key {key}", "User-Agent": f"seedance-mcp/{__version__}"}
        self._queue_url = queue_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._timeout = httpx2.Timeout(timeout, connect=min(timeout, 10.0))
        self._stream_timeout = httpx2.Timeout(min(timeout, STREAM_IDLE_SECONDS), connect=min(timeout, 10.0))
        self._poll_interval = poll_interval
        self._storage = FalStorage(http, self._headers, rest_url, self._retry, timeout)
        self._keys = keys  # fal's webhook keys: set when the server takes webhooks
        self.calls_back = keys is not None

    def __repr__(self) -> str:
        return f"FalQueue(queue_url={self._queue_url!r})"

    def check(self, mode: Mode, model: Model, arguments: Mapping[str, Any]) -> None:
        """Every mode and input form the tools accept; what each model takes is the catalog's check."""

    async def submit(
        self, mode: Mode, model: Model, arguments: Mapping[str, Any], callback: str | None = None
    ) -> Submission:
        """Send once; resend only when the connection was refused, since then nothing reached fal."""
        endpoint = endpoint_of(self.name, model, mode)
        url = f"{self._queue_url}/{endpoint}"
        if callback is not None:
            url += f"?fal_webhook={quote(callback, safe='')}"
        body = dict(arguments)
        try:
            response = await send_with_retries(
                lambda: self._http.post(url, json=body, headers=self._headers, timeout=self._timeout),
                self._retry,
                host=self.name,
                operation="submit",
                idempotent=False,
            )
        except httpx2.TransportError as exc:
            if isinstance(exc, NEVER_SENT):
                raise ProviderUnavailable(
                    f"Could not connect to fal's queue at {self._queue_url} ({type(exc).__name__}). "
                    "Nothing was submitted and nothing was charged; check the network or SEEDANCE_FAL_QUEUE_URL "
                    "and call again."
                ) from exc
            raise _uncertain(endpoint, f"the connection broke before fal answered ({type(exc).__name__})") from exc
        if response.status_code >= 500 and "x-fal-request-id" not in response.headers:
            # An error page from the ingress in front of fal: the request may have been passed on.
            raise _uncertain(endpoint, f"the gateway in front of fal answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise error_from_response(response, "submit")
        try:
            data = response.json()
            request_id = str(data["request_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise _uncertain(endpoint, "its answer had no readable request_id") from exc
        app = "/".join(endpoint.split("/")[:2])  # owner/app: status and result live under the app
        base = f"{self._queue_url}/{app}/requests/{request_id}"
        fallback = {"status_url": f"{base}/status", "response_url": base, "cancel_url": f"{base}/cancel"}
        handle = {key: str(data.get(key) or fallback[key]) for key in HANDLE_KEYS}
        position = data.get("queue_position")
        return Submission(request_id, endpoint, handle, position if isinstance(position, int) else None)

    async def _read(
        self, what: str, method: str, url: str, final: Callable[[httpx2.Response], bool] = _never, **params: str
    ) -> tuple[httpx2.Response, Any]:
        """A request that changes nothing at fal, retried until it gives a final answer.

        Transport errors, 408/409/429/5xx and a success whose body is not JSON are retried with backoff;
        what is left becomes `ProviderUnavailable`. Returns the response and its JSON body (None on an error
        answer that is not JSON).
        """
        try:
            response = await send_with_retries(
                lambda: self._http.request(method, url, params=params, headers=self._headers, timeout=self._timeout),
                self._retry,
                host=self.name,
                operation=what,
                usable=_is_json,
                final=final,
            )
        except httpx2.TransportError as exc:
            raise ProviderUnavailable(f"Could not reach fal for the job's {what} ({type(exc).__name__}).") from exc
        if _is_json(response):
            return response, response.json()
        if response.status_code >= 400:
            return response, None
        raise ProviderUnavailable(f"fal's answer to the job's {what} was not valid JSON")

    async def follow(self, handle: Mapping[str, str]) -> AsyncGenerator[StatusUpdate, None]:
        try:
            async for update in self._stream(handle):
                yield update
                if update.state == "completed":
                    return
            logger.info("status stream closed before COMPLETED; polling instead")
        except (httpx2.HTTPError, ProviderError, ValueError) as exc:
            logger.warning("status stream failed (%s); polling instead", type(exc).__name__)
        async for update in self._poll(handle):
            yield update

    async def _stream(self, handle: Mapping[str, str]) -> AsyncIterator[StatusUpdate]:
        status_url = httpx2.URL(handle["status_url"])
        url = status_url.copy_with(path=status_url.path.rstrip("/") + "/stream")
        headers = {**self._headers, "Accept": "text/event-stream"}
        async with self._http.stream(
            "GET", url, params={"logs": "1"}, headers=headers, timeout=self._stream_timeout
        ) as response:
            metrics.meter.host_request(self.name, "stream", response.status_code)
            if response.status_code >= 400:
                await response.aread()
                raise error_from_response(response, "status stream")
            data: list[str] = []
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    continue  # keep-alive comment such as `: ping`
                if line == "":
                    if data and (update := parse_status(json.loads("\n".join(data)))) is not None:
                        yield update
                    data = []
                    continue
                name, _, value = line.partition(":")
                if name == "data":
                    data.append(value.removeprefix(" "))
            if data and (update := parse_status(json.loads("\n".join(data)))) is not None:
                yield update

    async def _poll(self, handle: Mapping[str, str]) -> AsyncIterator[StatusUpdate]:
        delay, longest = self._poll_interval
        while True:
            response, data = await self._read("status", "GET", handle["status_url"], logs="1")
            if response.status_code >= 400:
                raise error_from_response(response, "status")
            update = parse_status(data)
            if update is not None:
                yield update
                if update.state == "completed":
                    return
            await anyio.sleep(delay)
            delay = min(delay * 1.5, longest)

    async def result(self, handle: Mapping[str, str]) -> Output:
        response, data = await self._read("result", "GET", handle["response_url"], final=_own_timeout)
        if response.status_code >= 400:
            raise result_error(response)
        return parse_output(data)

    async def heard(self, request_id: str, handle: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Heard:
        """fal's webhook, verified by its Ed25519 signature. An `OK` one carries the whole result, so the job
        ends without a result request; an `ERROR`, or an `OK` whose result fal could not send, is fetched
        from the result endpoint, which explains a failure best."""
        if self._keys is None:
            raise Refused("this server asked fal for no webhooks")
        signed_for = await self._keys.verify(headers, body, time.time())
        try:
            data = json.loads(body)
        except ValueError:
            raise Refused("its body is not JSON") from None
        if signed_for != request_id or not isinstance(data, dict) or data.get("request_id") != request_id:
            raise Refused("it is signed for another job")
        if data.get("status") not in ("OK", "ERROR"):
            raise Refused(f"its status {str(data.get('status'))[:20]!r} is not one fal sends")
        payload = data.get("payload")
        if data["status"] == "OK" and isinstance(payload, dict):
            try:
                return Heard(StatusUpdate("completed"), parse_output(payload))
            except JobFailed:
                pass
        return Heard(StatusUpdate("completed"))

    async def upload(self, file: LocalFile) -> str:
        return await self._storage.upload(file)

    async def cancel(self, handle: Mapping[str, str]) -> CancelOutcome:
        response, _ = await self._read("cancel", "PUT", handle["cancel_url"])
        if response.status_code == 400:
            return "too_late"
        if response.status_code == 404:
            return "not_found"
        if response.status_code >= 400:
            raise error_from_response(response, "cancel")
        return "cancelled"
