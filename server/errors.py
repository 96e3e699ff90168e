"""The errors this server raises, each written for the model that will read it.

    SeedanceError
    ├── ConfigurationError   the server is not set up for this call (no API key, say)
    ├── InvalidArguments     a call that was refused before anything was sent or charged
    ├── JobNotFound          a request_id the ledger has never seen
    ├── VideoUnavailable     a job whose video this server cannot read (yet, or any more)
    ├── PossibleDuplicate    an identical earlier submit may have started a job nobody could confirm
    ├── LimitReached         a person's share of the server is used up for now: retry later
    └── ProviderError        the provider refused the request or could not be reached
        ├── AuthenticationFailed   the provider rejected the API key
        ├── RequestRejected        the provider rejected the arguments (HTTP 422)
        ├── SubmitUncertain        the submit was sent but its answer was lost: the job may exist
        ├── JobFailed              the job ran and failed: a final answer
        │   └── JobCancelled       the provider dropped the job because it was cancelled
        └── ProviderUnavailable    network failure, timeout, or a 5xx/429 that outlasted the retries

Tools turn every `SeedanceError` into an MCP `ToolError` in one place (`tools/errors.py`), so the text
of each message is exactly what the model sees: it names the field, what is allowed, and what to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal


class SeedanceError(Exception):
    """Base class: the message is safe to show to the model and never contains a secret."""


class ConfigurationError(SeedanceError):
    """Raised when a call needs a setting the server was started without."""


ECHO = 80  # the most of a caller's value a message repeats


def echo(value: str, *, end: bool = False) -> str:
    """A caller's value as a message may repeat it: at most `ECHO` characters, its start or (a path's
    file name being what tells it apart) its end."""
    if len(value) <= ECHO:
        return value
    return "..." + value[3 - ECHO :] if end else value[: ECHO - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One wrong field: what is wrong with it, what it takes, and how to fix it."""

    field: str
    problem: str
    fix: str
    allowed: str | None = None

    def line(self) -> str:
        allowed = f" Allowed: {self.allowed}." if self.allowed else ""
        return f"- `{self.field}`: {self.problem}.{allowed} Fix: {self.fix}."


def refusal(lines: Sequence[str], tool: str | None = None) -> str:
    """The one shape every refused call has, whether one field was wrong or several disagreed."""
    named, again = (f" for {tool}", f"call {tool} again") if tool else ("", "call again")
    body = "\n".join(lines)
    return f"Invalid arguments{named}; nothing was submitted or charged.\n{body}\nFix the fields above and {again}."


class InvalidArguments(SeedanceError):
    """Raised before any request leaves the process, so the call cost nothing; it names every wrong field."""

    def __init__(self, field: str, problem: str, fix: str, *more: Problem, allowed: str | None = None) -> None:
        self.field = field
        self.problems = (Problem(field, problem, fix, allowed), *more)
        super().__init__(refusal([p.line() for p in self.problems]))

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> InvalidArguments:
        first, *rest = problems
        return cls(first.field, first.problem, first.fix, *rest, allowed=first.allowed)


# A tool call's refusals, so that the argument checker answers one raised deep in a tool exactly as it
# answers a schema error, and not in the SDK's "Error executing tool ..." wrapping.
_refusals: ContextVar[list[InvalidArguments] | None] = ContextVar("refusals", default=None)


def note_refusal(refused: InvalidArguments) -> None:
    """Keep a refusal a tool is about to report, for the `refusals()` block around the call, if any."""
    if (noted := _refusals.get()) is not None:
        noted.append(refused)


@contextmanager
def refusals() -> Iterator[list[InvalidArguments]]:
    """The refusals the tools reported while this block ran, in order."""
    noted: list[InvalidArguments] = []
    token = _refusals.set(noted)
    try:
        yield noted
    finally:
        _refusals.reset(token)


class JobNotFound(SeedanceError):
    """Raised when get_job is asked about a request_id that this server never submitted."""


class VideoUnavailable(SeedanceError):
    """Raised when a job has no video this server can read: not finished, or neither stored nor reachable."""


class PossibleDuplicate(SeedanceError):
    """Raised instead of resubmitting a call whose identical predecessor may already be running and billed."""


class LimitReached(SeedanceError):
    """Raised when a person is over one of the server's limits per person, or the replica is stopping; nothing
    was submitted or charged, and the same call succeeds later. `limit` is what refused it, for the metrics."""

    def __init__(self, limit: Literal["rate", "concurrency", "draining"], message: str) -> None:
        self.limit = limit
        super().__init__(message)


class ProviderError(SeedanceError):
    """Raised when the provider answers with an error the model cannot fix by waiting."""

    def __init__(self, message: str, *, status_code: int | None = None, error_type: str | None = None) -> None:
        self.status_code = status_code
        self.error_type = error_type
        super().__init__(message)


class AuthenticationFailed(ProviderError):
    """Raised on HTTP 401/403: the key is wrong, revoked or lacks access."""


class RequestRejected(ProviderError):
    """Raised on HTTP 422: the provider named the fields it refused."""


class SubmitUncertain(ProviderError):
    """Raised when a submit left this process but no answer came back; it is never resent automatically."""


class JobFailed(ProviderError):
    """Raised when the provider says the job itself failed; asking again will not change that."""


class JobCancelled(JobFailed):
    """Raised when the provider reports the job as cancelled rather than failed."""


class ProviderUnavailable(ProviderError):
    """Raised when the provider could not be reached or kept failing; the request may be retried later."""
