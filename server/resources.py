"""Jobs as MCP resources: `seedance://jobs` lists recent ones, `seedance://jobs/{request_id}` holds one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from server.state import AppState
from server.views import job_detail, job_view

JOBS_URI = "seedance://jobs"
RECENT_LIMIT = 50


def register_resources(mcp: MCPServer[Any], state: Callable[[], AppState]) -> None:
    @mcp.resource(
        JOBS_URI,
        name="jobs",
        title="Recent Seedance jobs",
        description=f"The {RECENT_LIMIT} most recent video jobs in the ledger, newest first.",
        mime_type="application/json",
    )
    async def recent_jobs() -> str:
        views = [job_view(record).model_dump(mode="json") for record in state().ledger.recent(RECENT_LIMIT)]
        return json.dumps(views, indent=2)

    @mcp.resource(
        JOBS_URI + "/{request_id}",
        name="job",
        title="A Seedance job",
        description="One job's record: status, arguments, estimated cost, result and its event history.",
        mime_type="application/json",
    )
    async def job(request_id: str) -> str:
        ledger = state().ledger
        record = ledger.get(request_id)
        if record is None:
            raise ResourceNotFoundError(f"No job {request_id!r} in the ledger; see {JOBS_URI} for recent jobs.")
        return job_detail(record, ledger.events(request_id)).model_dump_json(indent=2)
