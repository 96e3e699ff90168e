"""The operations page's table of metrics, from the registry the HTTP server serves."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics import MetricWrapperBase

import tools
from server.catalog import MODELS
from server.metrics import HOSTS, OPERATIONS, REFUSALS
from server.operations.metrics import PrometheusMeter

SUFFIX = {"counter": "_total", "gauge": "", "histogram": ""}


def _values(values: Iterable[str]) -> str:
    return ", ".join(f"`{value}`" for value in sorted(values))


LABELS = {
    "tool": "each tool's name, or `other`",
    "outcome": _values(("ok", "error", "refused")),
    "host": _values(HOSTS) + ", or `other`",
    "operation": _values(OPERATIONS) + ", or `other`",
    "status": "the HTTP status, or `none` when no answer came",
    "reason": _values(REFUSALS),
    "model": _values(MODELS) + ", or `other`",
}


def metrics_table() -> str:
    meter = PrometheusMeter({tool.name for tool in tools.ALL})
    rows = ["| metric | type | labels | what it counts |", "| --- | --- | --- | --- |"]
    for metric in vars(meter).values():
        if isinstance(metric, MetricWrapperBase):
            kind = str(metric._type)
            labels = "; ".join(f"`{name}`: {LABELS[name]}" for name in metric._labelnames) or "none"
            rows.append(f"| `{metric._name}{SUFFIX[kind]}` | {kind} | {labels} | {metric._documentation} |")
    return "\n".join(rows)
