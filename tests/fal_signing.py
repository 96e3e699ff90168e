"""fal's webhook signature from the signing side: a key of the test's own, the JWKS that publishes it, served
over HTTP on loopback, and deliveries signed as fal signs them (see server/webhooks/fal.py)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from server.webhooks.fal import signed_message

GATE_SECONDS = 300.0  # the bound on a held answer: it only turns a hang into a failure


class FalSigner:
    def __init__(self, *, padded: bool = True) -> None:
        self._key = Ed25519PrivateKey.generate()
        self._padded = padded  # fal's own JWKS pads `x` with "="

    def jwk(self) -> dict[str, str]:
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).decode()
        return {"kty": "OKP", "crv": "Ed25519", "x": x if self._padded else x.rstrip("=")}

    def headers(self, body: bytes, request_id: str, now: float, user_id: str = "user-1") -> dict[str, str]:
        timestamp = str(int(now))
        signature = self._key.sign(signed_message(request_id, user_id, timestamp, body))
        return {
            "x-fal-webhook-request-id": request_id,
            "x-fal-webhook-user-id": user_id,
            "x-fal-webhook-timestamp": timestamp,
            "x-fal-webhook-signature": signature.hex(),
        }


class JwksServer:
    """Serves `document` at /.well-known/jwks.json, as it is at each request, and counts the fetches."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0
        self.gate: threading.Event | None = None  # when given, each answer waits until it is set
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.fetches += 1
                if served.gate is not None:
                    served.gate.wait(timeout=GATE_SECONDS)
                body = json.dumps(served.document).encode()
                self.send_response(200 if self.path == "/.well-known/jwks.json" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"


@contextmanager
def jwks_server(*signers: FalSigner) -> Iterator[JwksServer]:
    server = JwksServer({"keys": [signer.jwk() for signer in signers]})
    thread = threading.Thread(target=server._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server._server.shutdown()
        server._server.server_close()
