"""The Prometheus side of `server.metrics`: the registry, and `/metrics` in the text format.

Loaded only by the HTTP server. Names follow Prometheus's conventions (`seedance_` first, `_total` on
counters, units in the name) and every label's values come from a closed set the code owns. Each replica is
scraped on its own; sums across replicas are Prometheus's.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.types import Receive, Scope, Send

from server.catalog import MODELS
from server.metrics import (
    DOWNLOAD_OUTCOMES,
    HOSTS,
    OPERATIONS,
    REFUSALS,
    WEBHOOK_OUTCOMES,
    Meter,
    Outcome,
    Refusal,
    label,
)

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
LOOPBACK_CLIENTS = ("127.", "::1", "::ffff:127.")


class PrometheusMeter(Meter):
    def __init__(self, tools: Collection[str]) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series double every counter and say nothing a scrape needs
        self.tools = frozenset(tools)
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter("seedance_tool_calls", "Tool calls, by tool and outcome.", ["tool", "outcome"], registry=r)
        self.seconds = Histogram(
            "seedance_tool_call_duration_seconds",
            "How long tool calls took, waiting included.",
            ["tool"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "seedance_host_requests",
            "HTTP requests to the video hosts, every attempt, by operation and status (none: no answer).",
            ["host", "operation", "status"],
            registry=r,
        )
        self.retries = Counter(
            "seedance_host_retries", "Requests to a host sent again.", ["host", "operation"], registry=r
        )
        self.submitted = Counter(
            "seedance_jobs_submitted", "Jobs submitted, by host and model.", ["host", "model"], registry=r
        )
        self.spend = Counter(
            "seedance_spend_list_price_usd",
            "What the jobs submitted may cost at list price (their estimate's upper bound), in US dollars.",
            ["host", "model"],
            registry=r,
        )
        self.webhooks = Counter(
            "seedance_webhook_deliveries",
            "Deliveries to the webhook route, by host and what became of them.",
            ["host", "outcome"],
            registry=r,
        )
        self.downloads = Counter(
            "seedance_downloads",
            "Requests for signed download links, by what they got.",
            ["outcome"],
            registry=r,
        )
        self.in_flight = Gauge("seedance_jobs_in_flight", "Unfinished jobs this replica follows.", registry=r)
        self.refusals = Counter(
            "seedance_refusals", "Tool calls refused before anything was sent, by reason.", ["reason"], registry=r
        )
        for reason in REFUSALS:  # every reason is there from the start, at 0
            self.refusals.labels(reason)

    def tool_call(self, tool: str, outcome: Outcome, seconds: float) -> None:
        tool = label(tool, self.tools)
        self.calls.labels(tool, outcome).inc()
        self.seconds.labels(tool).observe(seconds)

    def host_request(self, host: str, operation: str, status: int | None) -> None:
        code = "none" if status is None else str(status) if 100 <= status <= 599 else "other"
        self.requests.labels(label(host, HOSTS), label(operation, OPERATIONS), code).inc()

    def retry(self, host: str, operation: str) -> None:
        self.retries.labels(label(host, HOSTS), label(operation, OPERATIONS)).inc()

    def job_submitted(self, host: str, model: str, list_usd: float) -> None:
        labels = (label(host, HOSTS), label(model, frozenset(MODELS)))
        self.submitted.labels(*labels).inc()
        self.spend.labels(*labels).inc(list_usd)

    def refusal(self, reason: Refusal) -> None:
        self.refusals.labels(reason).inc()

    def following(self, change: int) -> None:
        self.in_flight.inc(change)

    def webhook(self, host: str, outcome: str) -> None:
        self.webhooks.labels(label(host, HOSTS | {"unknown"}), label(outcome, WEBHOOK_OUTCOMES)).inc()

    def download(self, outcome: str) -> None:
        self.downloads.labels(label(outcome, DOWNLOAD_OUTCOMES)).inc()

    async def serve(self, scope: Scope, receive: Receive, send: Send, token: str | None) -> None:
        """GET /metrics: for loopback callers, and for any caller with `Authorization: Bearer <token>`."""
        client = scope.get("client")
        given = dict(scope["headers"]).get(b"authorization", b"")
        allowed = (client is not None and str(client[0]).startswith(LOOPBACK_CLIENTS)) or (
            token is not None and hmac.compare_digest(given, f"Bearer {token}".encode())
        )
        status, body, kind = (
            (200, generate_latest(self.registry), CONTENT_TYPE_LATEST)
            if allowed
            else (
                401,
                b"metrics are for loopback callers, or with Authorization: Bearer $SEEDANCE_METRICS_TOKEN\n",
                "text/plain; charset=utf-8",
            )
        )
        headers = [(b"content-type", kind.encode())] + ([(b"www-authenticate", b"Bearer")] if status == 401 else [])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
