"""Kubernetes' probes, answered before any sign-in and revealing nothing secret.

`/healthz` says the process serves HTTP and touches nothing else, so that a database outage never restarts
the pod. `/readyz` says this replica can do useful work now: the ledger answers a real query, the folders it
saves into can be written, and it is not draining; otherwise 503, naming the check that failed, so that the
balancer sends calls elsewhere until it passes again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from server.folders import unusable
from server.operations.draining import Drain
from server.state import AppState

if TYPE_CHECKING:
    from server.operations.metrics import PrometheusMeter

logger = logging.getLogger(__name__)

CHECK_SECONDS = 3.0  # each readiness check's bound: a database that does not answer in this is not ready


async def readiness(state: AppState | None, drain: Drain) -> dict[str, str]:
    """Each check's result, "ok" or a short reason without secrets."""
    if state is None:
        return {"server": "starting or stopping"}
    checks = {"draining": "stopping: not taking new calls" if drain.draining else "ok"}
    try:
        with anyio.fail_after(CHECK_SECONDS):
            await state.ledger.ping()
        checks["ledger"] = "ok"
    except TimeoutError:
        checks["ledger"] = f"no answer in {CHECK_SECONDS:g} s"
    except Exception as exc:  # whatever the driver raises, by its kind only: its text may hold the URL
        checks["ledger"] = f"query failed ({type(exc).__name__})"
    settings = state.settings
    folders = [settings.home] + ([settings.output_dir] if settings.output_dir is not None else [])
    problems = [why for folder in folders if (why := await anyio.to_thread.run_sync(unusable, folder))]
    checks["storage"] = "ok" if not problems else f"cannot write: {problems[0]}"
    return checks


class Probes:
    """ASGI: answers GET /healthz, /readyz and /metrics itself, and hands everything else to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        state: Callable[[], AppState | None],
        drain: Drain,
        meter: PrometheusMeter | None = None,
        metrics_token: str | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.drain = drain
        self.meter = meter
        self.metrics_token = metrics_token
        self._failing: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path == "/healthz":
            await answer_json(send, 200, {"status": "ok"})
        elif path == "/readyz":
            checks = await readiness(self.state(), self.drain)
            failed = [name for name, result in checks.items() if result != "ok"]
            if failed != self._failing:  # said once when it changes, not at every probe
                self._failing = failed
                if failed:
                    logger.warning("not ready: %s", "; ".join(f"{name}: {checks[name]}" for name in failed))
                else:
                    logger.info("ready again")
            await answer_json(send, 503 if failed else 200, {"status": "ok" if not failed else "failing", **checks})
        elif path == "/metrics" and self.meter is not None:
            await self.meter.serve(scope, receive, send, self.metrics_token)
        else:
            await self.app(scope, receive, send)


async def answer_json(send: Send, status: int, body: dict[str, str]) -> None:
    """A small JSON answer that no cache keeps."""
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
