"""Serving MCP over streamable HTTP for a team.

Loopback only unless a bearer token is set: a server that can spend the team's fal credit must not be
open to whoever can reach the port. The token is required on every request and compared in constant
time; Host and Origin are checked against an allow-list (DNS rebinding), and request bodies are capped.
"""

from __future__ import annotations

import hmac
import json
import logging
import signal
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import uvicorn
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

import tools
from server import metrics
from server.media.links import links_of
from server.operations.door import Door
from server.operations.draining import Drain
from server.operations.probes import Probes
from server.settings import Settings
from server.state import StateRef
from server.transport.sign_in import static_token

if TYPE_CHECKING:
    from server.operations.metrics import PrometheusMeter

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
CLOSE_SECONDS = 5  # once stopping, how long open streams (a client's GET) are waited for before they are cut
LOOPBACK_BINDS = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


class BearerToken:
    """ASGI middleware: 401 for any HTTP request without `Authorization: Bearer <token>`; the request then
    runs as the shared token's identity ("token"), which sees every job."""

    def __init__(self, app: ASGIApp, token: str, settings: Settings) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.user = AuthenticatedUser(static_token(settings.oauth_scope, settings.oauth_admin_scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"error": "missing or wrong bearer token"}).encode()
                headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        signed_in = auth_context_var.set(self.user)
        try:
            await self.app(scope, receive, send)
        finally:
            auth_context_var.reset(signed_in)


def allowed_hosts(bind: str, extra: tuple[str, ...]) -> list[str]:
    """Host header values to accept: loopback names, the bound address, and SEEDANCE_HTTP_ALLOWED_HOSTS."""
    names = [*LOOPBACK_HOSTS, *extra]
    if bind not in LOOPBACK_BINDS | WILDCARD_BINDS:
        names.append(f"[{bind}]" if ":" in bind else bind)
    hosts: list[str] = []
    for name in names:
        with_port = not name.endswith("]") and name.rsplit(":", 1)[-1].isdigit()
        hosts += [name] if with_port else [name, f"{name}:*"]
    return hosts


def check_bind(host: str, settings: Settings) -> None:
    if host not in LOOPBACK_BINDS and not settings.http_token and not settings.oauth_issuer:
        raise SystemExit(
            f"seedance-mcp: refusing to listen on {host}: anyone who can reach it could spend your fal credit. "
            "Set SEEDANCE_OAUTH_ISSUER and SEEDANCE_OAUTH_RESOURCE for sign-in with your identity provider, or "
            "SEEDANCE_HTTP_TOKEN to a long random secret (clients then send `Authorization: Bearer <it>`), "
            "or leave --host at 127.0.0.1."
        )


def build_app(
    server: MCPServer[Any], settings: Settings, host: str, ref: StateRef, drain: Drain, meter: PrometheusMeter
) -> ASGIApp:
    """The server's streamable HTTP app, behind the bearer token if one is set, and behind the probes and
    /metrics, which read the state `ref` reaches and the `drain` the server was built with."""
    called_at = (urlsplit(settings.callback_base).netloc,) if settings.callback_base else ()
    hosts = allowed_hosts(host, settings.http_allowed_hosts + called_at)  # the hosts call back by the public name
    origins = [f"{scheme}://{name}" for name in hosts for scheme in ("http", "https")]
    security = TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)
    max_body = int(settings.http_max_body_mb * 1024 * 1024)
    app: ASGIApp = server.streamable_http_app(
        transport_security=security,
        max_request_body_size=max_body,
        max_sessions=settings.http_max_sessions,
        session_idle_timeout=settings.http_session_idle_seconds,
        host=host,
    )
    if settings.http_token and not settings.oauth_issuer:  # with sign-in, the issuer's check takes it too
        app = BearerToken(app, settings.http_token, settings)
    if (cap := settings.calls_per_minute_cap) is not None:
        app = Door(app, lambda: ref.current, cap, security, max_body)
    if settings.webhooks:  # before sign-in and the bearer token: a host has neither, and proves itself otherwise
        from server.transport.webhooks import Hooks

        app = Hooks(app, lambda: ref.current, security, max_body)
    if (links := links_of(settings)) is not None:  # before sign-in too: the link is the proof
        from server.transport.downloads import Downloads

        app = Downloads(app, lambda: ref.current, links, security)
    return Probes(app, lambda: ref.current, drain, meter, settings.metrics_token)


class DrainingServer(uvicorn.Server):
    """uvicorn, but SIGTERM drains before it stops (see `server.operations.draining`), and then exits 0:
    an orchestrator's stop is the end of the work, not a failure."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain
        self.asked_to_drain = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and not self.asked_to_drain:
            self.asked_to_drain = True  # a signal handler only notes it: the drain begins in the loop, below
        else:  # Ctrl-C, or a second SIGTERM: stop now, handing the jobs over all the same
            super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.asked_to_drain:
            self.drain.begin()
            if self.drain.over():
                return True
        return await super().on_tick(counter)


def serve(server: MCPServer[Any], settings: Settings, host: str, port: int, ref: StateRef, drain: Drain) -> None:
    check_bind(host, settings)
    if host in WILDCARD_BINDS and not settings.http_allowed_hosts:
        logger.warning("listening on all interfaces: set SEEDANCE_HTTP_ALLOWED_HOSTS to the names clients use")
    from server.operations.metrics import PrometheusMeter  # prometheus-client: only for a server over HTTP

    meter = PrometheusMeter({tool.name for tool in tools.ALL})
    metrics.install(meter)
    app = build_app(server, settings, host, ref, drain, meter)
    guard = (
        f" (sign-in with {settings.oauth_issuer})"
        if settings.oauth_issuer
        else " (bearer token required)"
        if settings.http_token
        else ""
    )
    logger.info("serving MCP at http://%s:%d/mcp%s", host, port, guard)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        lifespan="on",
        timeout_graceful_shutdown=CLOSE_SECONDS,
        log_config=None,  # the server's own logging, text or JSON, takes uvicorn's lines too
    )
    DrainingServer(config, drain).run()
