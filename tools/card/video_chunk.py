"""video_chunk: a finished job's video, a piece at a time, for the card to play as a `data:` URL."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from server.card import app_only_meta
from server.card.video import CHUNK_BYTES, read_chunk
from server.jobs.waiting import find_job
from server.state import app_state
from tools.card import READS
from tools.define import define
from tools.errors import tool_errors


class VideoChunk(BaseModel):
    request_id: str
    offset: int = Field(description="Where this piece starts in the file.")
    size: int = Field(description="Bytes in this piece.")
    total_bytes: int = Field(description="The whole file's size; ask again from offset + size until it is reached.")
    mime_type: str = "video/mp4"
    data: str = Field(description="The piece, base64.")


async def video_chunk(
    request_id: Annotated[str, Field(min_length=1, description="A finished job.")],
    ctx: Context[Any],
    offset: Annotated[int, Field(ge=0, description=f"Byte offset, a multiple of {CHUNK_BYTES}.")] = 0,
) -> Annotated[CallToolResult, VideoChunk]:
    """A piece of a finished job's MP4: from the copy on this machine, else fetched from the host."""
    state = app_state(ctx)
    with tool_errors():
        chunk = await read_chunk(await find_job(state.ledger, request_id), offset, state.http, state.keeper.shelf)
    piece = VideoChunk(
        request_id=request_id,
        offset=chunk.offset,
        size=len(chunk.data),
        total_bytes=chunk.total_bytes,
        data=base64.b64encode(chunk.data).decode(),
    )
    text = f"bytes {chunk.offset}-{chunk.offset + len(chunk.data)} of {chunk.total_bytes}"
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=piece.model_dump())


TOOL = define(
    video_chunk,
    title="Read a job's video for its card",
    annotations=READS,
    meta=app_only_meta(),
)
