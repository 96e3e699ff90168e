"""Runflow's callback signature checked as server/webhooks/runflow.py says: an HMAC-SHA256 of the raw body
under either of two secrets verifies; anything else is refused with its reason."""

from __future__ import annotations

import json

import pytest

from server.webhooks import Refused
from server.webhooks.runflow import HEADER, signature, verify

OLD, NEW = "whsec_old_0123456789abcdef", "whsec_new_0123456789abcdef"
BODY = json.dumps({"event": "run.completed", "run_id": "run-1", "status": "completed"}).encode()


@pytest.mark.parametrize("secret", [OLD, NEW])
def test_a_callback_signed_with_either_secret_of_a_rotation_verifies(secret: str):
    verify({HEADER: signature(secret, BODY)}, BODY, [OLD, NEW])
    verify({HEADER: signature(secret, BODY).upper()}, BODY, [OLD, NEW])  # hex in either case


@pytest.mark.parametrize(
    ("headers", "body", "secrets", "reason"),
    [
        ({HEADER: signature("whsec_someone_else", BODY)}, BODY, [OLD, NEW], "no Runflow webhook secret verifies"),
        ({HEADER: signature(NEW, BODY)}, BODY.replace(b"completed", b"failed"), [NEW], "verifies the signature"),
        ({HEADER: signature(OLD, BODY)}, BODY, [NEW], "no Runflow webhook secret verifies"),
        ({}, BODY, [NEW], "missing runflow-signature"),
        ({HEADER: "not hex at all"}, BODY, [NEW], "verifies the signature"),
        ({HEADER: "é" * 64}, BODY, [NEW], "verifies the signature"),  # not ASCII: refused, not a crash
        ({HEADER: signature(NEW, BODY)}, BODY, [], "no Runflow webhook secret is set"),
    ],
)
def test_what_runflow_did_not_sign_is_refused(headers: dict[str, str], body: bytes, secrets: list[str], reason: str):
    with pytest.raises(Refused, match=reason):
        verify(headers, body, secrets)
