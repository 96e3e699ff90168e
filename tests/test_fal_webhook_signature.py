"""fal's webhook signature checked as server/webhooks/fal.py says, against a JWKS served on loopback: what fal
signed verifies; a wrong key, a stale or future timestamp, a changed body or a missing header does not; keys
are fetched again when fal rotates them, but a flood of forgeries does not make the server fetch them again.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio
import httpx2
import pytest

from server.webhooks import Refused
from server.webhooks.fal import TOLERANCE_SECONDS, FalKeys
from tests.conftest import HANG_SECONDS
from tests.fal_signing import FalSigner, jwks_server

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0
BODY = json.dumps({"request_id": "req-1", "status": "OK", "payload": {"seed": 42}}).encode()
NEVER = 1e12  # seconds: a refetch that never comes due in a test


async def test_a_delivery_fal_signed_verifies_and_the_keys_are_fetched_once():
    fal = FalSigner()
    with jwks_server(FalSigner(), fal) as jwks:
        async with httpx2.AsyncClient() as http:
            keys = FalKeys(http, jwks.url)
            for n in range(3):
                assert await keys.verify(fal.headers(BODY, f"req-{n}", NOW), BODY, NOW + 5) == f"req-{n}"
    assert jwks.fetches == 1


async def test_deliveries_that_come_while_the_keys_are_first_fetched_wait_for_them():
    """Many jobs end at once: the first delivery fetches the keys, and those that come meanwhile verify with
    them rather than being refused for want of keys (which fal would only retry much later)."""
    fal = FalSigner()
    verified: list[str] = []
    with jwks_server(fal) as jwks:
        jwks.gate = threading.Event()
        async with httpx2.AsyncClient() as http, anyio.create_task_group() as tg:
            keys = FalKeys(http, jwks.url, refetch_seconds=NEVER)

            async def deliver(n: int) -> None:
                verified.append(await keys.verify(fal.headers(BODY, f"req-{n}", NOW), BODY, NOW))

            tg.start_soon(deliver, 0)
            with anyio.fail_after(HANG_SECONDS):
                while not jwks.fetches:  # the first delivery's fetch has reached the JWKS, and is held there
                    await anyio.sleep(0.01)
            for n in range(1, 5):
                tg.start_soon(deliver, n)
            await anyio.wait_all_tasks_blocked()  # each has found no key it could use, and waits for the fetch
            jwks.gate.set()
    assert sorted(verified) == [f"req-{n}" for n in range(5)]
    assert jwks.fetches == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"signer": "another"}, "no key of fal's verifies"),
        ({"now": NOW + TOLERANCE_SECONDS + 1}, "more than 300 s"),
        ({"now": NOW - TOLERANCE_SECONDS - 1}, "more than 300 s"),
        ({"body": BODY.replace(b"42", b"43")}, "no key of fal's verifies"),
        ({"drop": "x-fal-webhook-timestamp"}, "missing x-fal-webhook-timestamp"),
        ({"header": ("x-fal-webhook-signature", "not hex")}, "not well formed"),
        ({"header": ("x-fal-webhook-request-id", "req-other")}, "no key of fal's verifies"),
    ],
)
async def test_what_fal_did_not_sign_is_refused_without_fetching_the_keys_again(change: dict[str, Any], reason: str):
    fal = FalSigner()
    with jwks_server(fal) as jwks:
        async with httpx2.AsyncClient() as http:
            keys = FalKeys(http, jwks.url, refetch_seconds=NEVER)
            assert await keys.verify(fal.headers(BODY, "req-1", NOW), BODY, NOW) == "req-1"
            signer = FalSigner() if change.get("signer") else fal
            headers = signer.headers(BODY, "req-1", NOW)
            headers.pop(change.get("drop", ""), None)
            if "header" in change:
                headers[change["header"][0]] = change["header"][1]
            for _ in range(5):
                with pytest.raises(Refused, match=reason):
                    await keys.verify(headers, change.get("body", BODY), change.get("now", NOW))
    assert jwks.fetches == 1


async def test_keys_fal_rotated_in_are_fetched_when_none_cached_verifies():
    old, new = FalSigner(), FalSigner(padded=False)
    with jwks_server(old) as jwks:
        async with httpx2.AsyncClient() as http:
            keys = FalKeys(http, jwks.url, refetch_seconds=0)
            assert await keys.verify(old.headers(BODY, "req-1", NOW), BODY, NOW) == "req-1"
            jwks.document = {
                "keys": [new.jwk(), {"kty": "RSA", "n": "x", "e": "AQAB"}, {"kty": "OKP", "crv": "Ed25519"}]
            }
            assert await keys.verify(new.headers(BODY, "req-2", NOW), BODY, NOW) == "req-2"
            with pytest.raises(Refused):
                await keys.verify(old.headers(BODY, "req-3", NOW), BODY, NOW)  # rotated out
    assert jwks.fetches == 3


async def test_keys_older_than_their_age_are_fetched_again_before_use():
    fal = FalSigner()
    with jwks_server(fal) as jwks:
        async with httpx2.AsyncClient() as http:
            keys = FalKeys(http, jwks.url, max_age=0, refetch_seconds=0)
            for n in range(3):
                await keys.verify(fal.headers(BODY, f"req-{n}", NOW), BODY, NOW)
    assert jwks.fetches == 3
