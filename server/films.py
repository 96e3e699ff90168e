"""Films: finished jobs joined into one MP4, saved with a sidecar of their shots and what they cost.

Joining is local work and free. A film is named by its shots, transition and title, so asking for the
same film again returns the one already made rather than joining twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.to_thread
from mcp.types import CallToolResult, ContentBlock, ResourceLink, TextContent
from pydantic import BaseModel, Field

from server.errors import InvalidArguments, Problem, VideoUnavailable
from server.folders import HOME, writing
from server.inputs.references import JobReference, check, find_jobs
from server.jobs.views import CostRange, job_view, on_this_computer
from server.ledger import FilmRecord, JobRecord
from server.media.copies import poster_of
from server.media.exclusive import place, temporary, write_new
from server.media.links import current_links
from server.media.saving import dated_name
from server.money.pricing import dollars
from server.state import AppState
from server.trust import current_caller
from server.video import Transition

FILM_URI = "seedance://films/{film_id}"
FILMS_URI = "seedance://films"


class FilmShot(BaseModel):
    request_id: str
    prompt: str | None = None
    seed: int | None = None
    host: str = Field(description="The provider that made the shot (local for an offline preview).")
    duration: float | None = Field(default=None, description="Seconds.")
    cost_usd: CostRange = Field(description="What the shot cost: 0 for an offline preview.")
    preview: bool = False


class FilmView(BaseModel):
    """A film joined from finished jobs."""

    film_id: str = Field(description="Pass it to inspect_video; the film is the resource seedance://films/{film_id}.")
    title: str | None = None
    film_uri: str
    shots: list[FilmShot] = Field(description="In the order they play.")
    transition: Transition
    method: str = Field(description='"stream copy" (no quality lost) or "re-encode" (sizes differed, or fades).')
    sound: str = Field(description='"copied", "re-encoded" or "none".')
    duration: float = Field(description="Seconds: the sum of the shots' lengths.")
    width: int
    height: int
    total_cost_usd: CostRange = Field(description="What the shots cost together; joining them is free.")
    saved_path: str | None = Field(
        description="The MP4 on this machine, with a JSON sidecar beside it (not shown to callers over HTTP)."
    )
    poster_path: str | None = None
    url: str | None = Field(
        default=None, description="From a server with a public URL: its signed download link, renewed on every look."
    )
    poster_url: str | None = Field(default=None, description="A signed link to a JPEG of the film's first shot.")
    created_at: str


def film_id_for(request_ids: Sequence[str], transition: str, title: str | None) -> str:
    digest = hashlib.sha256(json.dumps([list(request_ids), transition, title]).encode()).hexdigest()
    return f"film-{digest[:16]}"


def _shot(record: JobRecord) -> FilmShot:
    view = job_view(record)
    return FilmShot(
        request_id=record.request_id,
        prompt=str(record.arguments.get("prompt")) if record.arguments.get("prompt") else None,
        seed=view.seed,
        host=record.provider,
        duration=view.video.duration if view.video else None,
        cost_usd=view.estimated_cost_usd,
        preview=record.preview,
    )


def film_view(film: FilmRecord) -> FilmView:
    """The film; for a remote caller without the server's paths, which name nothing the caller can open."""
    remote = current_caller().remote
    links = current_links() if remote else None
    signed = {}
    if links is not None:
        poster = links.poster("films", film.film_id) if poster_of(film.facts) else None
        signed = {"url": links.video("films", film.film_id), "poster_url": poster}
    in_bucket = film.path.startswith("s3://")
    return FilmView.model_validate(
        {
            **film.facts,
            **({"poster_path": None} if remote else {}),
            **signed,
            "film_id": film.film_id,
            "title": film.title,
            "film_uri": FILM_URI.format(film_id=film.film_id),
            "transition": film.transition,
            "saved_path": None if remote or in_bucket else film.path,
            "created_at": datetime.fromtimestamp(film.created_at, UTC).isoformat(timespec="seconds"),
        }
    )


class FilmMaker:
    def __init__(self, state: AppState) -> None:
        self._state = state

    async def _videos(self, request_ids: Sequence[str]) -> list[tuple[JobRecord, Path]]:
        """Each shot's finished job and its video on this machine; every unusable id is named at once."""
        find = await find_jobs(self._state.ledger, request_ids)
        found: list[tuple[JobRecord, Path]] = []
        problems: list[Problem] = []
        for index, request_id in enumerate(request_ids):
            field = f"request_ids[{index}]"
            try:
                record = check(JobReference(field, request_id, None), find)
                found.append((record, await self._state.local_copy(record)))
            except InvalidArguments as exc:
                problems += exc.problems
            except VideoUnavailable as exc:
                problems += InvalidArguments(field, str(exc), "make the film without it").problems
        if problems:
            raise InvalidArguments.of(problems)
        return found

    async def make(self, request_ids: Sequence[str], title: str | None, transition: Transition) -> FilmRecord:
        ledger, settings = self._state.ledger, self._state.settings
        shots = await self._videos(request_ids)
        film_id = film_id_for(request_ids, transition, title)
        earlier = await ledger.film(film_id)
        if earlier is not None and await self._state.keeper.shelf.find(earlier.path) is not None:
            return earlier
        created = time.time()
        from server.video.join import join

        # A film of previews alone is no more Seedance's work than they are: it stays beside them.
        previews = all(record.preview for record, _ in shots)
        folder, setting = (settings.previews_dir, HOME) if previews else (settings.films_dir, settings.films_setting)
        bucket = self._state.keeper.shelf.bucket
        if bucket is not None:  # joined in this replica's cache, then stored
            folder, setting = settings.cache_dir, HOME
        name = dated_name(created, f"film {title or ''}", "film")
        with writing(folder, setting):
            part = temporary(folder, ".mp4")
        try:
            limiter = self._state.keeper.decoders
            paths = [path for _, path in shots]
            joined = await anyio.to_thread.run_sync(join, paths, part, transition, limiter=limiter)
            if bucket is not None:
                stored = await bucket.put_new(f"previews/{name}" if previews else name, part)
                target = part.replace(settings.cache_dir / f"{film_id}.mp4")
            else:
                with writing(folder, setting):
                    target = place(part, folder, name)
        finally:
            part.unlink(missing_ok=True)
        poster = await self._poster(target, film_id)
        described = [_shot(record) for record, _ in shots]
        facts = {
            "shots": [shot.model_dump(mode="json") for shot in described],
            "method": joined.method,
            "sound": joined.sound,
            "duration": joined.duration,
            "width": joined.size[0],
            "height": joined.size[1],
            "total_cost_usd": {
                "min": round(sum(s.cost_usd.min for s in described), 4),
                "max": round(sum(s.cost_usd.max for s in described), 4),
            },
            "poster_path": str(poster) if poster else None,
        }
        if bucket is None:
            film = FilmRecord(film_id, title, list(request_ids), transition, str(target), facts, created)
            with writing(folder, setting):
                write_new(target.with_suffix(".json"), _sidecar(film))  # never over a file
        else:
            if poster is not None and (
                stored_poster := await bucket.put_beside(stored, ".jpg", await anyio.Path(poster).read_bytes())
            ):
                facts["poster_object"] = stored_poster
            film = FilmRecord(film_id, title, list(request_ids), transition, stored, facts, created)
            await bucket.put_beside(stored, ".json", _sidecar(film))
        await ledger.save_film(film)
        return film

    async def _poster(self, video: Path, film_id: str) -> Path | None:
        try:
            return await self._state.keeper.write_poster(video, self._state.settings.posters_dir / f"{film_id}.jpg")
        except (OSError, ValueError):
            return None


def _sidecar(film: FilmRecord) -> bytes:
    """The film's shots and what they cost, saved beside it as JSON (no paths or links: they are this server's)."""
    view = film_view(film).model_dump(mode="json", exclude={"saved_path", "poster_path", "url", "poster_url"})
    return json.dumps(view, indent=2).encode()


def film_result(film: FilmRecord) -> CallToolResult:
    """The film as a tool result: text, its resource and file links, the poster, structured content."""
    view = film_view(film)
    cost = dollars(view.total_cost_usd.min, view.total_cost_usd.max)
    previews = sum(shot.preview for shot in view.shots)
    free = f" ({previews} of them offline previews, which cost nothing)" if previews else ""
    text = (
        f"Film ready: {len(view.shots)} shots{free}, {view.duration:g} s, {view.width}x{view.height}, joined by "
        f"{view.method} with {'fades' if view.transition == 'fade' else 'cuts'}; the shots cost {cost} together and "
        f"joining was free.\nSaved {f'to {view.saved_path}' if view.saved_path else 'on the server'} with a sidecar "
        f"listing its shots. film_id {view.film_id}: pass it to inspect_video to check the joins."
        + (f"\nDownload: {view.url}" if view.url else "")
    )
    path = Path(film.path)
    size = path.stat().st_size if path.is_file() else None
    content: list[ContentBlock] = [TextContent(type="text", text=text)]
    for uri in (view.url, view.film_uri):
        if uri:
            title = view.title or "Film"
            link = ResourceLink(type="resource_link", uri=uri, name=path.name, title=title, mime_type="video/mp4")
            content.append(link.model_copy(update={"size": size}))
    content += on_this_computer(film.path, film.facts.get("poster_path"), view.title or "Film")
    return CallToolResult(content=content, structured_content=view.model_dump(mode="json"))
