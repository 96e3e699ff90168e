"""fal's webhook signature: Ed25519 over the request id, user id, timestamp and the body's sha256.

fal signs each delivery with a key from its JWKS (no `kid`: each key is tried) and sends four headers. A
delivery is believed only if its timestamp is within `TOLERANCE_SECONDS` of now, either way, and one of the
keys verifies the signature over the raw body's hash: the body is never re-serialized first. The keys are
cached for at most a day and fetched again when none verifies, at most once a minute, so that a flood of
forged deliveries cannot make the server fetch the keys for each one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping

import anyio
import httpx2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.webhooks import Refused

JWKS_URL = "https://rest.fal.ai/.well-known/jwks.json"
TOLERANCE_SECONDS = 300
KEYS_MAX_AGE = 24 * 3600.0
REFETCH_SECONDS = 60.0
FETCH_SECONDS = 10.0  # the bound on one fetch of the keys
HEADERS = ("x-fal-webhook-request-id", "x-fal-webhook-user-id", "x-fal-webhook-timestamp", "x-fal-webhook-signature")


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """What fal signs: the three headers and the hex sha256 of the raw body, a line each."""
    return f"{request_id}\n{user_id}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


def keys_of(jwks: object) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document; others, and malformed ones, are skipped."""
    keys = []
    for key in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if not isinstance(key, dict) or key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
            continue
        x = key.get("x")
        if not isinstance(x, str):
            continue
        bare = x.rstrip("=")  # fal's own set pads it; decode either way
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))))
        except (ValueError, binascii.Error):
            continue
    return keys


class FalKeys:
    """fal's public keys, fetched from its JWKS when first needed, and again as the module says."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        url: str = JWKS_URL,
        *,
        max_age: float = KEYS_MAX_AGE,
        refetch_seconds: float = REFETCH_SECONDS,
    ) -> None:
        self._http = http
        self._url = url
        self._max_age = max_age
        self._refetch_seconds = refetch_seconds
        self._keys: list[Ed25519PublicKey] = []
        self._fetched: float | None = None  # anyio time of the last fetch, answered or not
        self._fetches = 0  # answered fetches: a call that waited on another's fetch tries the keys it got
        self._lock = anyio.Lock()

    async def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> str:
        """The request id of a delivery fal signed, at wall-clock time `now`; raises `Refused` otherwise."""
        missing = [name for name in HEADERS if not headers.get(name)]
        if missing:
            raise Refused(f"missing {', '.join(missing)}")
        request_id, user_id, timestamp, signature = (headers[name] for name in HEADERS)
        try:
            sent = int(timestamp)
            signed = bytes.fromhex(signature)
        except ValueError:
            raise Refused("timestamp or signature is not well formed") from None
        if abs(now - sent) > TOLERANCE_SECONDS:
            raise Refused(f"timestamp is {now - sent:+.0f} s from now, more than {TOLERANCE_SECONDS} s")
        message = signed_message(request_id, user_id, timestamp, body)
        if self._fetched is None or anyio.current_time() - self._fetched >= self._max_age:
            await self._refetch()
        if self._verifies(signed, message) or (await self._refetch() and self._verifies(signed, message)):
            return request_id
        raise Refused("no key of fal's verifies the signature")

    def _verifies(self, signature: bytes, message: bytes) -> bool:
        for key in self._keys:
            try:
                key.verify(signature, message)
                return True
            except InvalidSignature:
                continue
        return False

    async def _refetch(self) -> bool:
        """Fetch the keys again unless that was done too lately; whether there are new keys to try. Deliveries
        that come together while the keys are first fetched wait for that fetch, and try what it got."""
        answered = self._fetches
        async with self._lock:
            if self._fetches != answered:
                return True
            now = anyio.current_time()
            if self._fetched is not None and now - self._fetched < self._refetch_seconds:
                return False
            self._fetched = now
            try:
                with anyio.fail_after(FETCH_SECONDS):
                    answer = await self._http.get(self._url)
                answer.raise_for_status()
                keys = keys_of(answer.json())
            except (httpx2.HTTPError, TimeoutError, ValueError):
                return False
            self._keys = keys
            self._fetches += 1
            return bool(keys)
