"""The MCP tools, one a module, each building its `TOOL`; `ALL` is what the server registers, in the order
clients list them, read from `listing.json` so that no tool module is imported before its first call.

The job card's own tools, which hosts keep from the model, are in `tools/card/`.
"""

from mcp.server.mcpserver.tools import Tool

from tools.define import listed

# Where each tool lives, in the order clients list them: `python -m scripts.reference` writes the listing
# from these modules.
MODULES = (
    "tools.generate_text_video",
    "tools.animate_image",
    "tools.reference_video",
    "tools.complete_draft",
    "tools.get_job",
    "tools.list_jobs",
    "tools.cancel_job",
    "tools.estimate_cost",
    "tools.inspect_video",
    "tools.make_film",
    "tools.list_films",
    "tools.card.watch_job",
    "tools.card.video_chunk",
)
# The calls that take minutes: a client that asks for tasks follows them as tasks.
LONG = ["generate_text_video", "animate_image", "reference_video", "complete_draft"]
ALL: list[Tool] = listed(MODULES)
