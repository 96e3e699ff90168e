"""Which provider runs: chosen from the settings, built the same way for every host."""

from __future__ import annotations

import httpx2

from server.providers.base import Provider
from server.providers.fal import FalQueue
from server.settings import Settings


def create_provider(settings: Settings, http: httpx2.AsyncClient) -> Provider | None:
    """The configured provider, or None when no key is set (estimates and the ledger still work)."""
    if settings.fal_key:
        return FalQueue(http, settings.fal_key, settings.fal_queue_url)
    return None
