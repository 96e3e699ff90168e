"""The server's log on stderr (stdout carries the protocol on stdio): text for a person reading a terminal,
or with SEEDANCE_LOG_FORMAT=json one JSON object a line, for a log collector. A line says, where there is
one, the MCP method and JSON-RPC id of the request it was written for, the tool, and the job. What the lines
say is the same in both formats: no keys, no prompts."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Collection
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from server import metrics
from server.settings import Settings

if TYPE_CHECKING:  # the SDK is not loaded to set up logging: a start that fails on its settings says so at once
    from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_request: ContextVar[dict[str, str] | None] = ContextVar("seedance_log_request", default=None)


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then request, method, tool and job if known."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= _request.get() or {}
        if (job := job_of(record)) is not None:
            entry["job"] = job
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def job_of(record: logging.LogRecord) -> str | None:
    """The job a line is about: the server writes those as "job %s: ..." with the request_id first."""
    if isinstance(record.msg, str) and record.msg.startswith("job %s") and isinstance(record.args, tuple):
        return str(record.args[0]) if record.args else None
    return None


class PathsWithoutSecrets(logging.Filter):
    """The HTTP access log without what proves a request: a webhook path's token and a download link's
    signature are credentials, so the log keeps `/hooks/…` and a link's path without its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            path = args[2]
            if path.startswith("/hooks/"):
                path = "/hooks/…"
            elif path.startswith("/files/"):
                path = path.split("?", 1)[0]
            record.args = (*args[:2], path, *args[3:])
        return True


def configure(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PathsWithoutSecrets())
    handler.setFormatter(JsonLines() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per request drowns the job log


def request_context(tools: Collection[str]) -> ServerMiddleware[Any]:
    """Middleware: the lines written while a request runs name it (a tool's name only if it is one of ours,
    otherwise "other")."""

    async def name_the_request(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        named = {"method": ctx.method}
        if ctx.request_id is not None:
            named["request"] = str(ctx.request_id)[:80]
        if ctx.method == "tools/call":
            named["tool"] = metrics.label(str((ctx.params or {}).get("name")), tools)
        token = _request.set(named)
        try:
            return await call_next(ctx)
        finally:
            _request.reset(token)

    return name_the_request
