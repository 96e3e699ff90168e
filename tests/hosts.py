"""The three paid hosts as the provider-generic tests see them, each against its fake.

A test asks a `Host` for the server settings that point at its fake, for what the last job sent (in one
shape whatever the host's wire format), and to hold a job in the queue or make it fail; the tools, the
MCP client and the assertions are the same for every host.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from server.settings import Settings
from tests.fake_fal import FakeFal, FakeJob, Phase
from tests.fake_hosts import FakeArk, FakeHost, FakeRunflow, Step


@dataclass(frozen=True)
class Sent:
    """What a job asked the host for, in fal's words."""

    prompt: str
    first_frame: str | None = None
    last_frame: str | None = None
    images: tuple[str, ...] = ()
    videos: tuple[str, ...] = ()
    audios: tuple[str, ...] = ()


def _fal_shaped(body: dict[str, Any]) -> Sent:
    return Sent(
        body["prompt"],
        body.get("image_url"),
        body.get("end_image_url"),
        tuple(body.get("image_urls", ())),
        tuple(body.get("video_urls", ())),
        tuple(body.get("audio_urls", ())),
    )


class Host:
    name: str
    key_variable: str  # the environment variable that holds this host's key
    fake: FakeFal | FakeHost
    failure: str  # words the model must read when a job fails on this host

    def settings(self, base: Settings, key: str | None = None) -> Settings:
        """`base` (set up for fal's fake) pointed at this host's fake, with its key or `key`."""
        raise NotImplementedError

    def sent(self) -> Sent:
        raise NotImplementedError

    def hold(self) -> None:
        """The next job waits in the queue until released."""
        raise NotImplementedError

    def fail(self) -> None:
        """The next job fails at the host."""
        raise NotImplementedError

    def hold_generating(self) -> None:
        """The next job is queued a moment, then generates until `release()`: a test sees it generating
        however slow the machine, instead of hoping a poll lands in a short window."""
        raise NotImplementedError

    def release(self) -> None:
        """The job `hold_generating` holds finishes."""
        job = self.fake.only_job()
        self.fake.advance(job.request_id if isinstance(job, FakeJob) else job.id)

    def cancelled_there(self) -> bool:
        return self.fake.only_job().cancelled

    def submits(self) -> int:
        return self.fake.count("submit")


class FalHost(Host):
    name = "fal"
    key_variable = "FAL_KEY"
    failure = "disconnected"

    def __init__(self, fake: FakeFal) -> None:
        self.fake: FakeFal = fake

    def settings(self, base: Settings, key: str | None = None) -> Settings:
        return dataclasses.replace(base, fal_key=key or base.fal_key)

    def sent(self) -> Sent:
        return _fal_shaped(self.fake.only_job().input)

    def hold(self) -> None:
        self.fake.plan = [Phase("IN_QUEUE", None, queue_position=0)]

    def hold_generating(self) -> None:
        self.fake.plan = [Phase("IN_QUEUE", 0.05, queue_position=0), Phase("IN_PROGRESS", None, log="rendering")]

    def fail(self) -> None:
        self.fake.outcome = "error"


class RunflowHost(Host):
    name = "runflow"
    key_variable = "RUNFLOW_API_KEY"
    failure = "Runflow reported the run failed: the model crashed"

    def __init__(self, fake: FakeRunflow) -> None:
        self.fake: FakeRunflow = fake

    def settings(self, base: Settings, key: str | None = None) -> Settings:
        return dataclasses.replace(
            base, fal_key=None, runflow_key=key or base.fal_key, provider="runflow", runflow_url=self.fake.url
        )

    def sent(self) -> Sent:
        return _fal_shaped(self.fake.only_job().body["input"])

    def hold(self) -> None:
        self.fake.plan = [Step("queued", None)]

    def hold_generating(self) -> None:
        self.fake.plan = [Step("queued", 0.05), Step("running", None)]

    def fail(self) -> None:
        self.fake.final, self.fake.error = "failed", ("internal_error", "the model crashed")


class ArkHost(Host):
    name = "ark"
    key_variable = "ARK_API_KEY"
    failure = "generate_audio=false"

    def __init__(self, fake: FakeArk) -> None:
        self.fake: FakeArk = fake

    def settings(self, base: Settings, key: str | None = None) -> Settings:
        return dataclasses.replace(
            base, fal_key=None, ark_key=key or base.fal_key, provider="ark", ark_url=self.fake.base_url
        )

    def sent(self) -> Sent:
        content = self.fake.only_job().body["content"]

        def by_role(role: str) -> tuple[str, ...]:
            return tuple(item[item["type"]]["url"] for item in content[1:] if item["role"] == role)

        first, last = by_role("first_frame"), by_role("last_frame")
        return Sent(
            content[0]["text"],
            first[0] if first else None,
            last[0] if last else None,
            by_role("reference_image"),
            by_role("reference_video"),
            by_role("reference_audio"),
        )

    def hold(self) -> None:
        self.fake.plan = [Step("queued", None)]

    def hold_generating(self) -> None:
        self.fake.plan = [Step("queued", 0.05), Step("running", None)]

    def fail(self) -> None:
        self.fake.final = "failed"
        self.fake.error = ("OutputAudioSensitiveContentDetected", "output audio may contain sensitive information")
