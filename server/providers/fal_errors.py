"""fal error answers turned into messages a model can act on, in one place.

fal answers model errors with HTTP 422 and `detail: [{loc, msg, type}]`, infrastructure errors with
`{"detail": str, "error_type": ...}` (also in the `X-Fal-Error-Type` header), and a bad key with 401/403.
"""

from __future__ import annotations

from typing import Any

import httpx2

from server.errors import (
    AuthenticationFailed,
    JobCancelled,
    JobFailed,
    ProviderError,
    ProviderUnavailable,
    RequestRejected,
)
from server.providers.retry import parse_retry_after

ERROR_TYPES: dict[str, str] = {
    "request_timeout": "the job ran longer than fal allows and was stopped",
    "startup_timeout": "the model did not start in time",
    "runner_scheduling_failure": "fal could not find a machine to run the model",
    "runner_connection_timeout": "fal lost contact with the machine running the model",
    "runner_disconnected": "the machine running the model disconnected",
    "runner_connection_refused": "the machine running the model refused the connection",
    "runner_connection_error": "fal lost contact with the machine running the model",
    "runner_incomplete_response": "the model's machine sent back an incomplete answer",
    "runner_server_error": "the model's machine hit an internal error",
    "internal_error": "fal hit an internal error",
    "client_disconnected": "the request was dropped because the caller disconnected",
    "client_cancelled": "the request was cancelled",
    "bad_request": "fal refused the request as malformed",
}


def explain(error_type: str | None, detail: str | None = None) -> str:
    """A plain sentence for an `error_type`, falling back to fal's own words."""
    words = ERROR_TYPES.get(error_type or "")
    if words and detail and detail.lower() not in words:
        return f"{words} ({detail})"
    return words or detail or "fal reported an error without details"


def _body(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _field_errors(detail: list[Any]) -> str:
    parts = []
    for item in detail:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        loc = [str(p) for p in item.get("loc", []) if p != "body"]
        field = ".".join(loc) or "request"
        parts.append(f"`{field}`: {item.get('msg', 'invalid value')}")
    return "; ".join(parts)


def error_from_response(response: httpx2.Response, what: str) -> ProviderError:
    """The exception for a non-2xx answer to `what` (a short phrase such as "submit").

    fal answered, so for a submit the answer is final: nothing was queued, and the message says so.
    """
    error = _error(response, what)
    if what != "submit":
        return error
    return type(error)(
        f"{error} Nothing was queued or charged.", status_code=error.status_code, error_type=error.error_type
    )


def _error(response: httpx2.Response, what: str) -> ProviderError:
    status = response.status_code
    body = _body(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    error_type = (body.get("error_type") if isinstance(body, dict) else None) or response.headers.get(
        "x-fal-error-type"
    )
    if status in (401, 403):
        return AuthenticationFailed(
            f"fal rejected the API key (HTTP {status}) during {what}. Check FAL_KEY in this server's environment "
            "(the key is not shown here) and create a new one at https://fal.ai/dashboard/keys if needed.",
            status_code=status,
        )
    if status == 422 and isinstance(detail, list):
        return RequestRejected(
            f"fal rejected the arguments (HTTP 422) during {what}: {_field_errors(detail)}. "
            "Fix the named field and call again.",
            status_code=status,
            error_type=error_type,
        )
    text = detail if isinstance(detail, str) else None
    if status == 429:
        after = parse_retry_after(response.headers.get("retry-after"))
        wait = f"about {after:.0f} s" if after is not None else "a minute"
        return ProviderUnavailable(
            f"fal is rate-limiting this key (HTTP 429) during {what}; wait {wait} and try again.",
            status_code=status,
            error_type=error_type,
        )
    if status >= 500 or error_type in ERROR_TYPES:
        return ProviderUnavailable(
            f"fal failed during {what} (HTTP {status}): {explain(error_type, text)}. "
            "fal does not bill server-side failures; the same call can be tried again.",
            status_code=status,
            error_type=error_type,
        )
    return ProviderError(
        f"fal answered HTTP {status} during {what}: {text or explain(error_type)}.",
        status_code=status,
        error_type=error_type,
    )


def result_error(response: httpx2.Response) -> ProviderError:
    """The exception for a failed result fetch: `JobFailed` when fal says the job itself failed.

    A 5xx from fal's own app carries an `error_type`; one from the ingress in front of it does not and
    is worth retrying later, as are 401/403 (a key problem, not the job's) and 408/409/429.
    """
    error = error_from_response(response, "result")
    status = response.status_code
    if status == 504 and response.headers.get("x-fal-request-timeout-type") == "user":
        return JobFailed(
            "The job failed at fal: it had not started when its start timeout ran out. fal does not bill it; "
            "calling the generation tool again starts a new job.",
            status_code=status,
            error_type="request_timeout",
        )
    if isinstance(error, AuthenticationFailed) or status in (408, 409, 429):
        return error
    if status >= 500 and not error.error_type:
        return error
    if status == 499 or error.error_type == "client_cancelled":
        return JobCancelled("fal confirmed the job was cancelled", status_code=status, error_type=error.error_type)
    return JobFailed(
        f"The job failed at fal: {error}. fal does not bill failed jobs; calling the generation tool again starts "
        "a new job.",
        status_code=status,
        error_type=error.error_type,
    )
