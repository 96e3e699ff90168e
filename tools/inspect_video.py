"""inspect_video: a contact sheet and the facts of a job's or a film's video, for the model to judge."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from server.errors import InvalidArguments, VideoUnavailable
from server.inputs.references import JobReference, check, find_jobs
from server.state import AppState, app_state
from server.trust.owners import current_person
from server.video import Blank
from server.video.facts import VideoFacts, read_facts
from tools.define import define

if TYPE_CHECKING:
    from server.video.sheet import Sheet
from tools.errors import tool_errors


class SheetFrame(BaseModel):
    index: int = Field(description="Its place on the sheet, left to right, top to bottom, from 0.")
    time: float = Field(description="Seconds into the video, as stamped on the frame.")
    blank: Blank | None = Field(
        default=None,
        description='"black" or "flat" (one colour) when the frame shows nothing, as in a fade; null otherwise.',
    )


class Inspection(BaseModel):
    request_id: str = Field(description="The job's request_id or the film's film_id.")
    facts: VideoFacts
    frames: list[SheetFrame]
    columns: int = Field(description="Frames per row on the sheet.")
    tile_width: int
    tile_height: int
    sheet_bytes: int = Field(description="The JPEG's size.")


async def _video(state: AppState, request_id: str) -> Path:
    film = await state.ledger.film(request_id)
    if film is not None and await current_person().may_see_film(state.ledger, film):
        try:  # on this machine, or fetched from the bucket into this replica's cache
            video = await state.keeper.shelf.local(film.path, state.settings.cache_dir / f"{film.film_id}.mp4")
        except OSError:
            video = Path(film.path)
        if not video.is_file():
            raise InvalidArguments(
                "request_id",
                f"film {request_id}'s file {Path(film.path).name} is gone",
                "call make_film again with its shots",
            )
        return video
    record = check(JobReference("request_id", request_id, None), await find_jobs(state.ledger, [request_id]))
    try:
        return await state.local_copy(record)
    except VideoUnavailable as exc:
        raise InvalidArguments("request_id", str(exc), "inspect another job") from exc


def _look(video: Path, frames: int) -> tuple[VideoFacts, Sheet]:
    from server.video.sheet import contact_sheet

    facts = read_facts(video)
    return facts, contact_sheet(video, facts.duration, facts.fps, frames)


def _blanks(sheet: Sheet) -> str:
    """The frames that show nothing, and a warning when the last one does: a next shot would start from it."""
    named = [
        f"{t:.2f} s is {'black' if b == 'black' else 'one flat colour'}"
        for t, b in zip(sheet.times, sheet.blank, strict=True)
        if b
    ]
    if not named:
        return ""
    warning = " A next shot should not start from its last frame." if sheet.blank[-1] else ""
    return " Showing nothing: " + "; ".join(named) + "." + warning


async def inspect_video(
    request_id: Annotated[
        str, Field(min_length=1, description="A finished job's request_id, or a film_id from make_film.")
    ],
    ctx: Context[Any],
    frames: Annotated[
        int, Field(ge=2, le=12, description="How many frames on the sheet, evenly spaced from the first to the last.")
    ] = 6,
) -> Annotated[CallToolResult, Inspection]:
    """Look at a finished video: a contact sheet of evenly spaced frames, each stamped with its time, and
    facts read from the file (duration, fps, size, codecs, sound and its loudness). Free and read-only.

    Use it to check the motion against the prompt, and to see the last frame before planning the next
    shot (start it with image_url="seedance://jobs/{request_id}/frames/last"). Works for films too."""
    state = app_state(ctx)
    with tool_errors():
        video = await _video(state, request_id)
    facts, sheet = await anyio.to_thread.run_sync(_look, video, frames, limiter=state.keeper.decoders)
    sound = f"sound {facts.audio_codec}, {facts.loudness_dbfs} dBFS RMS" if facts.has_audio else "no sound track"
    text = (
        f"{request_id}: {facts.duration:g} s, {facts.width}x{facts.height}, {facts.fps:g} fps, {facts.video_codec}, "
        f"{sound}. Contact sheet: {len(sheet.times)} frames at "
        + ", ".join(f"{t:.2f}" for t in sheet.times)
        + " s (left to right, top to bottom; the last is the video's final frame)."
        + _blanks(sheet)
    )
    result = Inspection(
        request_id=request_id,
        facts=facts,
        frames=[
            SheetFrame(index=i, time=round(t, 3), blank=b)
            for i, (t, b) in enumerate(zip(sheet.times, sheet.blank, strict=True))
        ],
        columns=sheet.columns,
        tile_width=sheet.tile[0],
        tile_height=sheet.tile[1],
        sheet_bytes=len(sheet.jpeg),
    )
    return CallToolResult(
        content=[
            TextContent(type="text", text=text),
            ImageContent(type="image", data=base64.b64encode(sheet.jpeg).decode(), mime_type="image/jpeg"),
        ],
        structured_content=result.model_dump(mode="json"),
    )


TOOL = define(
    inspect_video,
    title="Inspect a video: contact sheet and facts",
    annotations=ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
)
