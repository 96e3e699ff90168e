"""make_film: finished shots joined, in order, into one film."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from server.films import FilmMaker, FilmView, film_result
from server.state import app_state
from server.video import Transition
from tools.define import define
from tools.errors import tool_errors
from tools.params import Text

MAX_SHOTS = 20


async def make_film(
    request_ids: Annotated[
        list[Annotated[str, Field(min_length=1)]],
        Field(
            min_length=2,
            max_length=MAX_SHOTS,
            description="The finished jobs to join, in the order they play (2 to 20; a job may appear twice).",
        ),
    ],
    ctx: Context[Any],
    title: Annotated[
        Annotated[str, Text] | None,
        Field(max_length=200, description="The film's title, used in its file name and sidecar."),
    ] = None,
    transition: Annotated[
        Transition,
        Field(description='"cut" joins shot to shot; "fade" dips to black and back over 0.5 s at each join.'),
    ] = "cut",
) -> Annotated[CallToolResult, FilmView]:
    """Join finished video jobs into one film (MP4, H.264 and AAC), in the order given. Free: local work.

    Shots that share a size and codec are joined by stream copy, losing nothing; otherwise, and for fades,
    they are re-encoded to the first shot's size, letterboxed. The sound runs the whole length. The film
    is saved beside the videos (a film of previews alone, beside the previews) with a sidecar listing its
    shots and their total cost, and is the resource seedance://films/{film_id}. Check the joins with
    inspect_video(film_id). Calling again with the same shots returns the same film."""
    with tool_errors():
        film = await FilmMaker(app_state(ctx)).make(request_ids, title, transition)
    return film_result(film)


TOOL = define(
    make_film,
    title="Join shots into a film",
    annotations=ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
)
