"""Jobs and films as MCP resources: `seedance://jobs`, `seedance://jobs/{request_id}` (and its video),
`seedance://films` and `seedance://films/{film_id}` (the MP4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from server.errors import echo
from server.films import FILMS_URI, film_view
from server.jobs.views import job_detail, job_view
from server.ledger import JobRecord, Ledger
from server.media import copies
from server.media.copies import Shelf
from server.state import AppState
from server.trust.owners import current_person

JOBS_URI = "seedance://jobs"
RECENT_LIMIT = 50
MAX_BLOB_BYTES = 100 * 1024 * 1024  # base64 in one JSON message: larger videos are better fetched by URL


def register_resources(mcp: MCPServer[Any], state: Callable[[], AppState]) -> None:
    @mcp.resource(
        JOBS_URI,
        name="jobs",
        title="Recent Seedance jobs",
        description=f"The {RECENT_LIMIT} most recent video jobs in the ledger, newest first.",
        mime_type="application/json",
    )
    async def recent_jobs() -> str:
        records = await state().ledger.recent(RECENT_LIMIT, owner=current_person().only)
        views = [job_view(record).model_dump(mode="json") for record in records]
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
        record = await _find(ledger, request_id)
        return job_detail(record, await ledger.events(request_id)).model_dump_json(indent=2)

    @mcp.resource(
        JOBS_URI + "/{request_id}/video",
        name="job-video",
        title="A Seedance job's video",
        description="The finished MP4 of a job whose video is stored on this machine.",
        mime_type="video/mp4",
    )
    async def job_video(request_id: str) -> bytes:
        record = await _find(state().ledger, request_id)
        result = record.result or {}
        url = str(result.get("url", ""))
        if not record.finished or not url:
            raise ResourceError(f"Job {request_id} has no video yet (status {record.status}); call get_job to wait.")
        where = copies.job_video(result)
        if where is None:
            raise ResourceError(f"Job {request_id}'s video is not stored on this server; download it from {url}")
        return await _read_video(state().keeper.shelf, where, f"Job {request_id}", url)


def register_film_resources(mcp: MCPServer[Any], state: Callable[[], AppState]) -> None:
    @mcp.resource(
        FILMS_URI,
        name="films",
        title="Films",
        description=f"The {RECENT_LIMIT} most recent films make_film joined, newest first.",
        mime_type="application/json",
    )
    async def recent_films() -> str:
        ledger = state().ledger
        films = await current_person().films(ledger, await ledger.films(RECENT_LIMIT))
        views = [film_view(film).model_dump(mode="json") for film in films]
        return json.dumps(views, indent=2)

    @mcp.resource(
        FILMS_URI + "/{film_id}",
        name="film",
        title="A film",
        description="The MP4 of a film make_film joined from finished jobs.",
        mime_type="video/mp4",
    )
    async def film(film_id: str) -> bytes:
        ledger = state().ledger
        record = await ledger.film(film_id)
        if record is None or not await current_person().may_see_film(ledger, record):
            raise ResourceNotFoundError(f"No film {echo(film_id)!r} in the ledger; see {FILMS_URI} for recent films.")
        elsewhere = "its download link (list_films)" if record.path.startswith("s3://") else record.path
        return await _read_video(state().keeper.shelf, record.path, f"Film {film_id}", elsewhere)


async def _read_video(shelf: Shelf, where: str, what: str, elsewhere: str) -> bytes:
    """A stored MP4 as a blob, or a ResourceError saying where else to find it."""
    try:
        copy = await shelf.find(where)
        if copy is None:
            raise ResourceError(f"{what}'s video file {Path(where).name} is gone.")
        if copy.size > MAX_BLOB_BYTES:
            raise ResourceError(f"{what}'s video is too large to send inline; open {elsewhere} instead.")
        return await shelf.read_all(copy)
    except OSError as exc:
        raise ResourceError(f"{what}'s saved copy could not be read ({exc}).") from exc


async def _find(ledger: Ledger, request_id: str) -> JobRecord:
    record = await ledger.get(request_id)
    if record is None or not current_person().may_see(record):
        raise ResourceNotFoundError(f"No job {echo(request_id)!r} in the ledger; see {JOBS_URI} for recent jobs.")
    return record
