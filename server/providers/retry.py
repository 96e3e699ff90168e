"""When and how long to retry a provider request: one policy, named constants.

Reads (status, result, cancel) are retried on transport errors and on 408/409/429/5xx, with capped
exponential backoff and jitter, honouring `Retry-After`. A submit is retried only when the request
provably never left (the connection was refused or never opened): resending after an ambiguous failure
could start, and bill, a second job.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx2
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from server import metrics
from server.settings import RetryPolicy

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)  # records nothing unless tracing is on (server.operations.traces)

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
NEVER_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    if parsed is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())


def describe(span: Span, response: httpx2.Response) -> None:
    """A host request's span as the HTTP client conventions have it: method, where, status; never the query
    string, nor a header (the key travels in one)."""
    url = response.request.url
    span.set_attribute("http.request.method", response.request.method)
    span.set_attribute("server.address", url.host)
    span.set_attribute("url.full", f"{url.scheme}://{url.netloc.decode()}{url.path}")
    span.set_attribute("http.response.status_code", response.status_code)
    if response.status_code >= 400:
        span.set_attribute("error.type", str(response.status_code))


def _always(response: httpx2.Response) -> bool:
    return True


async def send_with_retries(
    send: Callable[[], Awaitable[httpx2.Response]],
    policy: RetryPolicy,
    *,
    host: str,
    operation: str,
    idempotent: bool = True,
    usable: Callable[[httpx2.Response], bool] = _always,
    final: Callable[[httpx2.Response], bool] = lambda response: False,
) -> httpx2.Response:
    """Run `send` until it gives a final answer; transport errors propagate after the last attempt.

    `usable` lets a caller reject a success it cannot read (say, a body that is not JSON): that is retried
    like a 5xx, from the same budget of attempts. `final` marks an error answer that retrying cannot change.
    `host` and `operation` name the request in the log and the metrics.
    """
    what = f"{host} {operation}"
    for attempt in range(1, policy.attempts + 1):
        last = attempt == policy.attempts
        if attempt > 1:
            metrics.meter.retry(host, operation)
        try:
            attributes = {"seedance.host": host, "seedance.operation": operation}
            with tracer.start_as_current_span(what, kind=SpanKind.CLIENT, attributes=attributes) as span:
                try:
                    response = await send()
                except httpx2.TransportError as exc:
                    span.set_attribute("error.type", type(exc).__name__)
                    raise
                describe(span, response)
        except httpx2.TransportError as exc:
            metrics.meter.host_request(host, operation, None)
            retryable = isinstance(exc, NEVER_SENT) or idempotent
            if last or not retryable:
                raise
            wait = policy.delay(attempt)
            logger.warning("%s failed attempt=%d error=%s retry_in=%.1fs", what, attempt, type(exc).__name__, wait)
        else:
            metrics.meter.host_request(host, operation, response.status_code)
            retryable = (response.status_code in RETRYABLE_STATUS and not final(response)) or (
                response.status_code < 400 and not usable(response)
            )
            if not idempotent or last or not retryable:
                return response
            wait = policy.delay(attempt, parse_retry_after(response.headers.get("retry-after")))
            logger.warning("%s got HTTP %d attempt=%d retry_in=%.1fs", what, response.status_code, attempt, wait)
        await anyio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
