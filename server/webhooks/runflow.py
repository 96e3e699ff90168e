"""Runflow's callback signature: `Runflow-Signature` is the hex HMAC-SHA256 of the raw body under a secret.

Runflow signs no timestamp, so there is no window to check: a repeat is recognised by the run and its state,
where the callback is applied. Two secrets may verify side by side while one replaces the other. Each is
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from server.webhooks import Refused

HEADER = "runflow-signature"


def signature(secret: str, body: bytes) -> str:
    """What Runflow sends for `body` under `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
    """Raise `Refused` unless one of `secrets` signed the raw `body` as the header says."""
    given = headers.get(HEADER, "").strip().lower()
    if not given:
        raise Refused(f"missing {HEADER}")
    if not secrets:
        raise Refused("no Runflow webhook secret is set, so no callback can be verified")
    given_bytes = given.encode()  # as bytes: compare_digest refuses str that is not ASCII, which a caller may send
    if not any(hmac.compare_digest(given_bytes, signature(secret, body).encode()) for secret in secrets):
        raise Refused("no Runflow webhook secret verifies the signature")
