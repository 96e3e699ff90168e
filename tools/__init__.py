"""The MCP tools, one a module; `ALL` is what the server registers, in the order clients list them.

The job card's own tools, which hosts keep from the model, are in `tools/card/`.
"""

from mcp.server.mcpserver.tools import Tool

from tools import (
    animate_image,
    cancel_job,
    complete_draft,
    estimate_cost,
    generate_text_video,
    get_job,
    inspect_video,
    list_films,
    list_jobs,
    make_film,
    reference_video,
)
from tools.card import video_chunk, watch_job

# The calls that take minutes: a client that asks for tasks follows them as tasks.
LONG: list[str] = [
    t.name for t in (generate_text_video.TOOL, animate_image.TOOL, reference_video.TOOL, complete_draft.TOOL)
]
ALL: list[Tool] = [
    generate_text_video.TOOL,
    animate_image.TOOL,
    reference_video.TOOL,
    complete_draft.TOOL,
    get_job.TOOL,
    list_jobs.TOOL,
    cancel_job.TOOL,
    estimate_cost.TOOL,
    inspect_video.TOOL,
    make_film.TOOL,
    list_films.TOOL,
    watch_job.TOOL,
    video_chunk.TOOL,
]
