"""The fault matrix on Runflow and ModelArk: every fault on every operation ends in the right state.

The same faults as fal's matrix (`test_faults.py`), on the operations a task API has: submit, status (a
poll), result (the read after the poll that saw the job finish), cancel, and the download of the video.
Both hosts serve every operation from one base URL, so a refused connection is staged by closing the
door just before the operation it is meant for, and reopened the moment the client logs it.
"""

from __future__ import annotations

import dataclasses

import pytest

from server.media.saving import DOWNLOAD_ATTEMPTS
from server.settings import Settings
from tests.conftest import text_of
from tests.fake_hosts import FakeHost, Step
from tests.fault_matrix import meet, submit_outcomes
from tests.hosts import Host

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

HTTP = ["429", "429-retry-after", "500", "502", "503", "504"]
NETWORK = ["refused", "reset", "hang", "malformed"]
TRANSIENT = HTTP + NETWORK

# (operation, fault, final state)
MATRIX: list[tuple[str, str, str]] = [
    *[("submit", f, "refused") for f in HTTP],
    *[("submit", f, "uncertain") for f in ["502-gateway", "504-gateway", "reset", "hang", "malformed"]],
    ("submit", "refused", "completed"),  # nothing reached the host, so it is sent again once the door opens
    ("submit", "refused-for-good", "not submitted"),
    *[("status", f, "completed") for f in TRANSIENT],
    *[("result", f, "completed") for f in TRANSIENT],
    ("result", "gone", "failed"),
    *[("cancel", f, "cancelled") for f in TRANSIENT],
    *[("download", f, "completed") for f in ["500", "503", "429", "refused", "reset", "hang", "broken"]],
    ("download", "broken-for-good", "completed, not saved"),
]
HOSTS = ["runflow", "ark"]
FAULTS_INJECTED = len(MATRIX) * len(HOSTS)
CASES = [(host, *case) for host in HOSTS for case in MATRIX]


def refused_words(host: Host, op: str) -> str:
    if op == "download":
        return "download attempt 1 broke off"
    return f"{host.name} {op} failed attempt=1 error=ConnectError"


def inject(fake: FakeHost, op: str, fault: str) -> None:
    if fault.startswith("refused"):
        fake.inject(op, "refused")
    elif fault == "broken-for-good":
        fake.inject(op, "broken", times=DOWNLOAD_ATTEMPTS)
    else:  # reads are retried, so they meet the fault twice; the rest are single shots
        retried = op != "submit" and fault in TRANSIENT and fault != "hang"
        fake.inject(op, fault, times=2 if retried else 1)


@pytest.mark.parametrize(
    ("host", "op", "fault", "final"), CASES, ids=[f"{h}-{o}-{f}" for h, o, f, _ in CASES], indirect=["host"]
)
async def test_a_fault_ends_in_the_right_state(
    settings: Settings, host: Host, caplog: pytest.LogCaptureFixture, op: str, fault: str, final: str
):
    fake = host.fake
    assert isinstance(fake, FakeHost)
    server_settings = dataclasses.replace(host.settings(settings), fal_timeout=1)
    if op == "cancel":
        fake.plan = [Step("queued", None)]
    inject(fake, op, fault)

    def cancelled() -> str | None:
        return fake.only_job().id if fake.jobs and fake.only_job().cancelled else None

    result, _ = await meet(
        server_settings,
        fake,
        op,
        fault,
        refused_words(host, op),
        cancelled=cancelled,
        before_cancel=(fake.refuse_now if fault == "refused" else lambda: None),
    )
    if fault.startswith("refused"):
        assert refused_words(host, op) in caplog.text
    text = text_of(result)
    view = result.structured_content or {}
    jobs = len(fake.jobs)
    match final:
        case "completed" | "cancelled" | "failed" | "completed, not saved":
            assert view.get("status") == final.split(",")[0], text
            assert jobs == 1 and fake.count("submit") >= 1
        case "refused":
            assert result.is_error and "Nothing was queued or charged" in text, text
            assert jobs == 0
        case "not submitted":
            assert result.is_error and "Nothing was submitted" in text, text
            assert jobs == 0
        case "uncertain":
            assert result.is_error and "may exist" in text and "force_new=true" in text, text
            assert (fake.count("submit"), jobs) == (1, 1), "an ambiguous submit must not be sent again"
            assert await submit_outcomes(server_settings) == ["uncertain"]
