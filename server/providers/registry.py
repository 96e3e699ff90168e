"""Which providers exist in this process and which one takes new jobs, from the settings.

Every provider whose settings are present is built, not only the active one, so a job stays
followable after the active provider changes; each is built the same way whatever it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from anyio.abc import TaskGroup

from server.errors import ConfigurationError
from server.providers.base import Provider
from server.providers.fal import FalQueue
from server.providers.local import LocalPreview
from server.settings import ProviderName, Settings

MISSING: dict[ProviderName, str] = {
    "fal": (
        "SEEDANCE_PROVIDER is fal but FAL_KEY is not set, so nothing was submitted. Add FAL_KEY to this server's "
        "environment (the `env` block of the MCP client's config), or unset SEEDANCE_PROVIDER to use the free "
        "offline preview backend. estimate_cost works either way."
    ),
    "local": "the offline preview backend is not available",
}


@dataclass(frozen=True)
class Providers:
    available: dict[str, Provider]
    active: ProviderName

    def for_new_jobs(self) -> Provider:
        provider = self.available.get(self.active)
        if provider is None:
            raise ConfigurationError(MISSING[self.active])
        return provider


def create_providers(settings: Settings, http: httpx2.AsyncClient, task_group: TaskGroup) -> Providers:
    available: dict[str, Provider] = {"local": LocalPreview(settings.previews_dir, http, task_group)}
    if settings.fal_key:
        available["fal"] = FalQueue(
            http,
            settings.fal_key,
            settings.fal_queue_url,
            retry=settings.retry,
            timeout=settings.fal_timeout,
            rest_url=settings.fal_rest_url,
        )
    return Providers(available, settings.provider)
