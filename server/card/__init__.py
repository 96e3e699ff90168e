"""The job card: an MCP App (`ui://seedance/job.html`) that clients which render MCP Apps show beside a job.

It follows the job through two tools only it calls (`watch_job`, `video_chunk`) and plays the video
inline. Its source is in the top-level `ui/` folder; `job.html` here is the built, self-contained file.
Everything the card adds sits on top of the plain result, which stays the same for every client.
"""

from server.card.resource import CARD_URI, app_only_meta, card_meta, card_resource

__all__ = ["CARD_URI", "app_only_meta", "card_meta", "card_resource"]
