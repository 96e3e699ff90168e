"""Putting local input files where the provider can read them, once per file content."""

from __future__ import annotations

import logging
import time
from typing import Any

from server.inputs import LocalFile
from server.ledger import Ledger
from server.providers.base import Provider

logger = logging.getLogger(__name__)

REUSE_SECONDS = 24 * 3600  # an uploaded copy is reused for a day; CDN links do not live forever


async def stage(
    arguments: dict[str, Any], files: list[LocalFile], provider: Provider, ledger: Ledger, owner: str | None
) -> dict[str, Any]:
    """The request with each local file replaced by the URL the provider reads it from.

    An upload is remembered per person: another person's upload of the same bytes is not theirs to reuse."""
    staged = {key: list(value) if isinstance(value, list) else value for key, value in arguments.items()}
    for file in files:
        digest = file.sha256() if owner is None else f"{file.sha256()}:{owner}"
        url = await ledger.uploaded(digest, provider.name, time.time() - REUSE_SECONDS)
        if url is None:
            url = await provider.upload(file)
            await ledger.record_upload(digest, provider.name, url)
            logger.info("uploaded %s (%d bytes) to %s", file.name, file.size, provider.name)
        slot, _, index = file.field.partition("[")
        if index:
            staged[slot][int(index.rstrip("]"))] = url
        else:
            staged[slot] = url
    return staged
