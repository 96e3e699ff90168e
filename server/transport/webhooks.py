"""The webhook route, `POST /hooks/<token>`: where the hosts call back when a job changes.

It stands in front of sign-in, since a host holds no token of ours. What proves a delivery is the host's own
signature (fal, Runflow) or, for ModelArk, which signs nothing, the task fetched from ModelArk itself: see
`JobTracker.hear`. The token in the path names one job and only its sha256 is stored. Host checks and the
body cap still apply. The answers, which the hosts retry on anything but 2xx:

- 200: proven, and the job is ended after the answer has gone back; or nothing to apply (a repeat, a late
  delivery, or one about a job still running);
- 401: not proven to be the host's, logged with the reason; nothing changes;
- 404: the path names no job; 405: not a POST; 413: a body over `SEEDANCE_HTTP_MAX_BODY_MB`;
- 503: the server is starting or stopping, or its ledger is away.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server import metrics
from server.operations.door import read_body
from server.operations.probes import answer_json
from server.state import AppState
from server.webhooks import Refused, hook_digest

logger = logging.getLogger(__name__)

PREFIX = "/hooks/"
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


class Hooks:
    """ASGI: answers `POST /hooks/<token>` itself and hands everything else to `app`."""

    def __init__(
        self, app: ASGIApp, state: Callable[[], AppState | None], security: TransportSecuritySettings, max_body: int
    ) -> None:
        self.app = app
        self.state = state
        self.guard = TransportSecurityMiddleware(security)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIX):
            return await self.app(scope, receive, send)
        refusal = await self.guard.validate_request(Request(scope), is_post=scope["method"] == "POST")
        if refusal is not None:  # a wrong Host (or Origin, or type): answered as the MCP endpoint would
            return await refusal(scope, receive, send)
        status, said = await self._deliver(scope, receive, path[len(PREFIX) :])
        await answer_json(send, status, {"status": said})

    async def _deliver(self, scope: Scope, receive: Receive, token: str) -> tuple[int, str]:
        if scope["method"] != "POST":
            return 405, "webhooks are POSTed"
        state = self.state()
        if state is None:
            return 503, "starting or stopping: deliver again later"
        body, _ = await read_body(receive, self.max_body)
        if len(body) > self.max_body:
            return 413, "body over the cap"
        try:
            record = await state.ledger.hooked(hook_digest(token)) if TOKEN.fullmatch(token) else None
        except Exception as exc:  # the driver's text may hold the database URL: its kind only
            logger.warning("webhook not taken: the ledger did not answer (%s)", type(exc).__name__)
            return 503, "the ledger is away: deliver again later"
        if record is None:
            logger.warning("webhook refused: its path names no job")
            metrics.meter.webhook("unknown", "unknown_job")
            return 404, "no such job"
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        try:
            outcome = await state.tracker.hear(record, headers, body)
        except Refused as exc:
            logger.warning("webhook for job %s refused: %s", record.request_id, exc)
            metrics.meter.webhook(record.provider, "refused")
            return 401, "not verified"
        metrics.meter.webhook(record.provider, outcome)
        logger.info("webhook for job %s: %s", record.request_id, outcome)
        return 200, outcome
