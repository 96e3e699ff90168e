"""The fake fal's jobs, the phases they walk through, and the faults it can answer with instead."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.responses import JSONResponse, Response

Outcome = Literal["ok", "invalid", "error"]
StreamMode = Literal["ok", "close_early", "fail"]

NGINX_PAGE = (
    "<html><head><title>{code} Bad Gateway</title></head>"
    "<body><center><h1>{code}</h1></center><hr><center>nginx</center></body></html>"
)
FAL_ERRORS = {
    500: "internal_error",
    502: "runner_incomplete_response",
    503: "runner_scheduling_failure",
    504: "request_timeout",
}
HTTP_FAULTS = frozenset(
    {
        "429",
        "429-retry-after",
        "500",
        "502",
        "503",
        "504",
        "502-ingress",
        "503-ingress",
        "504-ingress",
        "malformed",
        "gone",
        "504-user-timeout",  # the request's own start timeout ran out: the job failed
    }
)
# Faults that change what an answer holds rather than replacing it, each met by one operation's handler.
SHAPE_FAULTS = frozenset(
    {
        "close-early",  # stream: closes before COMPLETED
        "unknown-status",  # stream: an event with a status fal may add one day
        "split-event",  # stream: an event's bytes arrive in two reads
        "bare-logs",  # status, stream: log entries without level or timestamp
        "bare-video",  # result: a video without content_type or file_size
        "broken",  # download: the body stops halfway, with the whole length announced
    }
)


@dataclass(frozen=True)
class Phase:
    status: Literal["IN_QUEUE", "IN_PROGRESS"]
    seconds: float | None  # None: stay here until advance()
    queue_position: int | None = None
    log: str | None = None


def quick_plan(step: float = 0.05) -> list[Phase]:
    return [
        Phase("IN_QUEUE", step, queue_position=1),
        Phase("IN_QUEUE", step, queue_position=0),
        Phase("IN_PROGRESS", step, log="loading model"),
        Phase("IN_PROGRESS", step, log="generating frames"),
    ]


@dataclass
class FakeJob:
    request_id: str
    endpoint: str
    app: str
    input: dict[str, Any]
    phases: list[Phase]
    outcome: Outcome
    phase: int = 0
    phase_started: float = field(default_factory=time.monotonic)
    logs: list[str] = field(default_factory=list)
    cancelled: bool = False
    done: bool = False
    changes: list[tuple[str, float]] = field(default_factory=list)  # (new status, when, on the fake's clock)
    submitted_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.phases and self.phases[0].log:  # a job that starts in a phase with a log line has it at once
            self.logs.append(self.phases[0].log)

    def tick(self, now: float) -> None:
        while not self.done:
            current = self.phases[self.phase] if self.phase < len(self.phases) else None
            if current is None:
                self.done = True
                return
            if current.seconds is None or now - self.phase_started < current.seconds:
                return
            self.next_phase(self.phase_started + current.seconds)  # on schedule, however late it is noticed

    def end_held(self, now: float) -> None:
        """End the phase the job holds in (the first untimed one), playing out at once any timed phase still
        before it, since a test may advance a job sooner than those take; with none held, the current one."""
        self.tick(now)
        held = next((n for n in range(self.phase, len(self.phases)) if self.phases[n].seconds is None), self.phase)
        while not self.done and self.phase < held:
            self.next_phase(now)
        if not self.done:
            self.next_phase(now)

    def next_phase(self, now: float) -> None:
        self.phase += 1
        self.phase_started = now
        if self.phase >= len(self.phases):
            self.done = True
            self.changes.append(("COMPLETED", now))
            return
        if self.phases[self.phase].status != self.phases[self.phase - 1].status:
            self.changes.append((self.phases[self.phase].status, now))
        if self.phases[self.phase].log:
            self.logs.append(self.phases[self.phase].log or "")

    @property
    def started(self) -> bool:
        return self.done or self.phases[self.phase].status == "IN_PROGRESS"


def fault_response(fault: str, rid: str | None) -> Response:
    """An HTTP fault, as fal (or the gateway in front of it) answers it."""
    code = int(fault[:3]) if fault[:3].isdigit() else 200
    if fault.startswith("429"):
        headers = {"x-fal-request-id": rid or "none"}
        if fault == "429-retry-after":
            headers["retry-after"] = "1"
        return JSONResponse({"detail": "Rate limit exceeded"}, status_code=429, headers=headers)
    if fault == "504-user-timeout":
        headers = {"x-fal-request-id": rid or "none", "x-fal-request-timeout-type": "user"}
        body = {"detail": "Request timed out", "error_type": "request_timeout"}
        return JSONResponse(body, status_code=504, headers={**headers, "x-fal-error-type": "request_timeout"})
    if fault.endswith("-ingress"):  # the gateway's own page: no x-fal-request-id
        return Response(NGINX_PAGE.format(code=code), status_code=code, media_type="text/html")
    if code in FAL_ERRORS:
        kind = FAL_ERRORS[code]
        headers = {"x-fal-request-id": rid or "none", "x-fal-error-type": kind}
        return JSONResponse({"detail": kind.replace("_", " "), "error_type": kind}, status_code=code, headers=headers)
    return Response('{"status": "IN_QUEUE", "request_', media_type="application/json")  # malformed
