"""What the JSON task APIs (Runflow's runs, ModelArk's tasks) share: requests, polling and inline uploads.

A create is sent once and resent only when the connection was refused, since then nothing reached the
host; an answer lost after sending means the job may exist, and it is reported, never resent. Reads are
retried on the shared policy. Neither host streams status, so a job is followed by polling, with the
pause growing from the first interval to the longest.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

import anyio
import httpx2

from server import __version__
from server.errors import JobFailed, ProviderError, ProviderUnavailable, SubmitUncertain
from server.inputs import LocalFile
from server.providers.base import StatusUpdate
from server.providers.retry import NEVER_SENT, send_with_retries
from server.settings import RetryPolicy

ErrorFrom = Callable[[httpx2.Response, Any, str], ProviderError]


def json_body(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class TaskApi:
    """One host's base URL and headers; the key stays in the headers and out of every message."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        base_url: str,
        authorization: str,
        *,
        name: str,
        host: str,
        dashboard: str,
        error_from: ErrorFrom,
        retry: RetryPolicy,
        timeout: float,
    ) -> None:
        self._name = name  # the provider's, as the metrics name it; `host` is how people call it
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": authorization, "User-Agent": f"seedance-mcp/{__version__}"}
        self.host = host
        self._dashboard = dashboard
        self._error_from = error_from
        self._retry = retry
        self._timeout = httpx2.Timeout(timeout, connect=min(timeout, 10.0))

    def __repr__(self) -> str:
        return f"TaskApi(host={self.host!r}, base_url={self._base!r})"

    async def create(self, path: str, body: Mapping[str, Any], what: str) -> str:
        """POST a new job; returns its id or raises what the model should be told."""
        url = f"{self._base}{path}"
        try:
            response = await send_with_retries(
                lambda: self._http.post(url, json=dict(body), headers=self._headers, timeout=self._timeout),
                self._retry,
                host=self._name,
                operation="submit",
                idempotent=False,
            )
        except httpx2.TransportError as exc:
            if isinstance(exc, NEVER_SENT):
                raise ProviderUnavailable(
                    f"Could not connect to {self.host} at {self._base} ({type(exc).__name__}). Nothing was "
                    "submitted and nothing was charged; check the network and call again."
                ) from exc
            raise self._uncertain(what, f"the connection broke before {self.host} answered") from exc
        data = json_body(response)
        if response.status_code >= 500 and data is None:
            raise self._uncertain(what, f"{self.host} answered HTTP {response.status_code} without a reason")
        if response.status_code >= 400:
            refused = self._error_from(response, data, "submit")
            if isinstance(refused, ProviderUnavailable):  # the host's own answer: it took nothing
                refused = ProviderUnavailable(f"{refused} Nothing was queued or charged.")
            raise refused
        if not isinstance(data, dict):
            raise self._uncertain(what, "its answer could not be read")
        job_id = data.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise self._uncertain(what, "its answer held no job id")
        return job_id

    async def read(self, method: str, path: str, what: str) -> tuple[httpx2.Response, Any]:
        """A request that changes nothing at the host (or may safely be repeated), retried to a final answer."""
        url = f"{self._base}{path}"
        try:
            response = await send_with_retries(
                lambda: self._http.request(method, url, headers=self._headers, timeout=self._timeout),
                self._retry,
                host=self._name,
                operation=what,
                usable=lambda r: not r.content or json_body(r) is not None,
            )
        except httpx2.TransportError as exc:
            raise ProviderUnavailable(
                f"Could not reach {self.host} for the job's {what} ({type(exc).__name__})."
            ) from exc
        data = json_body(response)
        if data is None and response.status_code < 400 and response.content:
            raise ProviderUnavailable(f"{self.host}'s answer to the job's {what} was not valid JSON")
        return response, data

    async def get(self, path: str, what: str) -> dict[str, Any]:
        """A job's record; raises the host's error, or `ProviderUnavailable` for an answer that is not one."""
        response, data = await self.read("GET", path, what)
        if response.status_code == 404 and what == "result":
            raise JobFailed(
                f"{self.host} no longer has the finished job, so its video cannot be fetched; calling the "
                "generation tool again starts, and bills, a new one."
            )
        if response.status_code >= 400:
            raise self._error_from(response, data, what)
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"{self.host}'s answer to the job's {what} was not a job record")
        return data

    def _uncertain(self, what: str, why: str) -> SubmitUncertain:
        return SubmitUncertain(
            f"The submit to {self.host} reached the network but {why}, so the job may exist there (and be billed) "
            f"without this server knowing its id. It was not sent again. Look for a {what} job at "
            f"{self._dashboard} before calling again: calling again starts, and bills, a second job (pass "
            "force_new=true to do that)."
        )


async def poll(
    fetch: Callable[[], Awaitable[StatusUpdate | None]], interval: tuple[float, float]
) -> AsyncGenerator[StatusUpdate, None]:
    """Status updates until `completed`, pausing `interval[0]` s at first and growing to `interval[1]`.

    `fetch` gives None for a status the host added after this server was written: the job is polled on."""
    delay, longest = interval
    while True:
        update = await fetch()
        if update is not None:
            yield update
            if update.state == "completed":
                return
        await anyio.sleep(delay)
        delay = min(delay * 1.5, longest)


class PolledHost:
    """What Runflow and ModelArk share as providers: a bearer-key TaskApi, status by polling, local files inline.

    A host names itself (`host`, for messages), where its jobs can be looked up (`dashboard`) and how its
    error answers read (`error_from`).
    """

    name: str
    host: str
    dashboard: str
    error_from: ErrorFrom
    preview = False

    def __init__(
        self,
        http: httpx2.AsyncClient,
        key: str,
        base_url: str,
        *,
        retry: RetryPolicy,
        timeout: float,
        poll_interval: tuple[float, float],
    ) -> None:
        self._api = TaskApi(
            http,
            base_url,
            f"Bearer {key}",
            name=self.name,
            host=self.host,
            dashboard=self.dashboard,
            error_from=self.error_from,
            retry=retry,
            timeout=timeout,
        )
        self._poll_interval = poll_interval

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._api!r})"

    async def _status(self, handle: Mapping[str, str]) -> StatusUpdate | None:
        raise NotImplementedError

    def follow(self, handle: Mapping[str, str]) -> AsyncGenerator[StatusUpdate, None]:
        return poll(lambda: self._status(handle), self._poll_interval)

    async def upload(self, file: LocalFile) -> str:
        """Neither host has an upload API; both take images and audio inline as data: URIs."""
        return await data_uri(file)


async def data_uri(file: LocalFile) -> str:
    """A checked local file inline, for hosts that take `data:` URIs and have no upload API of their own."""
    return f"data:{file.content_type};base64,{base64.b64encode(file.data).decode()}"


def number(value: Any) -> Any:
    """A JSON number as it came, or None for anything else (booleans included)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
