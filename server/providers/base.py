"""The provider interface: submit a job, follow it, fetch its output, cancel it.

A provider keeps whatever it needs to find a job again in `Submission.handle` (plain strings), which the
ledger stores, so a job can be followed after a restart without knowing which provider ran it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from server.catalog import Mode, Model
from server.inputs import LocalFile

ProviderState = Literal["queued", "in_progress", "completed"]
# cancelled: asked, and it may stop; stopping: it stops for certain, and the job's end is on its way;
# refused: it will not stop a running job.
CancelOutcome = Literal["cancelled", "stopping", "too_late", "not_found", "refused"]


@dataclass(frozen=True)
class Submission:
    """What the provider answered to a submit: enough to follow the job from now on."""

    request_id: str
    endpoint: str
    handle: dict[str, str]
    queue_position: int | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """One observation of a job. `completed` means the provider stopped working on it, not that it succeeded."""

    state: ProviderState
    queue_position: int | None = None
    logs: tuple[str, ...] = ()
    error: str | None = None
    fraction: float | None = None  # how much of the generation is done, 0-1, from a host that knows


@dataclass(frozen=True)
class Output:
    """A finished job's video, the seed the model used, and a draft's id at its host (for complete_draft)."""

    url: str
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    seed: int | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    draft_id: str | None = None
    last_frame_url: str | None = None  # the host's own PNG of the last frame, where it makes one (ModelArk)
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Heard:
    """What a verified webhook says of a job: its status (None: nothing worth applying), and for a finished
    job the host's output when the delivery carries it (None: the result is asked for, as after a status
    change)."""

    update: StatusUpdate | None
    output: Output | None = None


class Provider(Protocol):
    """A host that runs Seedance jobs."""

    name: str
    preview: bool  # True for a free offline stand-in whose output is not Seedance's
    media_origins: tuple[str, ...]  # where its finished videos are served from: the job card may play them there
    calls_back: bool  # whether a submit can ask it to call a webhook when the job changes

    def check(self, mode: Mode, model: Model, arguments: Mapping[str, Any]) -> None:
        """Raise `InvalidArguments` for a request this host cannot take, before anything is sent or uploaded."""
        ...

    async def submit(
        self, mode: Mode, model: Model, arguments: Mapping[str, Any], callback: str | None = None
    ) -> Submission:
        """Start a job, asking the host to call `callback` when it changes, if given; raises `ProviderError`
        when it was refused or its fate is unknown."""
        ...

    async def heard(self, request_id: str, handle: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Heard:
        """A delivery to the job's webhook, once proven to be the host's: raises `Refused` (see
        `server.webhooks`) for one that is not, or that speaks of another job. Nothing is believed before."""
        ...

    def follow(self, handle: Mapping[str, str]) -> AsyncGenerator[StatusUpdate, None]:
        """Yield status updates until the job is `completed` (which always comes last)."""
        ...

    async def result(self, handle: Mapping[str, str]) -> Output:
        """The output of a completed job; raises `ProviderError` when the job failed."""
        ...

    async def cancel(self, handle: Mapping[str, str]) -> CancelOutcome:
        """Ask the provider to drop the job; only a job that has not started is certain to stop."""
        ...

    async def upload(self, file: LocalFile) -> str:
        """Make a checked local file reachable by the provider; returns the URL to put in the request."""
        ...
