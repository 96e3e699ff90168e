"""list_films: the films make_film joined, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from server.films import FilmView, film_view
from server.money.pricing import dollars
from server.state import app_state
from server.trust.owners import current_person
from tools.define import define


class FilmList(BaseModel):
    films: list[FilmView] = Field(description="Newest first.")
    count: int


async def list_films(
    ctx: Context[Any],
    limit: Annotated[int, Field(ge=1, le=200, description="How many films at most, newest first.")] = 20,
) -> Annotated[CallToolResult, FilmList]:
    """List the films make_film joined, newest first, with their shots, length, cost and file."""
    ledger = app_state(ctx).ledger
    views = [film_view(film) for film in await current_person().films(ledger, await ledger.films(limit))]
    lines = [
        f"{v.film_id}  {v.created_at}  {len(v.shots)} shots, {v.duration:g} s, "
        f"{dollars(v.total_cost_usd.min, v.total_cost_usd.max)}  {v.title or ''}  {v.saved_path or v.url or ''}"
        for v in views
    ]
    result = FilmList(films=views, count=len(views))
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(lines) or "No films yet.")],
        structured_content=result.model_dump(mode="json"),
    )


TOOL = define(
    list_films,
    title="List films",
    annotations=ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
)
