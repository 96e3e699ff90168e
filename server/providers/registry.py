"""Which providers exist in this process and which one takes new jobs, from the settings.

Every provider whose settings are present is built, not only the active one, so a job stays
followable after the active provider changes; each is built the same way whatever it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from anyio.abc import TaskGroup

from server.catalog import Model
from server.catalog.offers import ARK_MODEL_IDS
from server.errors import ConfigurationError
from server.providers.ark import Ark
from server.providers.base import Provider
from server.providers.fal import FalQueue
from server.providers.local import LocalPreview
from server.providers.runflow import Runflow
from server.settings import KEYS, ProviderName, Settings
from server.trust.network import CallerHttp


def missing(provider: ProviderName) -> str:
    if provider not in KEYS:
        return "the offline preview backend is not available"
    return (
        f"SEEDANCE_PROVIDER is {provider} but {KEYS[provider]} is not set, so nothing was submitted. Add "
        f"{KEYS[provider]} to this server's environment (the `env` block of the MCP client's config), or unset "
        "SEEDANCE_PROVIDER to use the first provider whose key is set, or the free offline previews. "
        "estimate_cost works either way."
    )


@dataclass(frozen=True)
class Providers:
    available: dict[str, Provider]
    active: ProviderName
    host: str  # the active provider as the catalog names it: "fal-us" for fal while SEEDANCE_FAL_REGION=us

    def for_new_jobs(self) -> Provider:
        provider = self.available.get(self.host)
        if provider is None:
            raise ConfigurationError(missing(self.active))
        return provider


def media_origins(settings: Settings) -> tuple[str, ...]:
    """Where the videos of every host this server is set up for are served from, then the operator's own."""
    hosts = [
        provider
        for provider, key in ((FalQueue, settings.fal_key), (Runflow, settings.runflow_key), (Ark, settings.ark_key))
        if key
    ]
    origins = [origin for host in hosts for origin in host.media_origins]
    return tuple(dict.fromkeys([*origins, *settings.media_origins]))


def create_providers(
    settings: Settings, http: httpx2.AsyncClient, callers: CallerHttp, task_group: TaskGroup
) -> Providers:
    """Every host with a key, and the preview, which fetches callers' URLs itself, through `callers`."""
    available: dict[str, Provider] = {"local": LocalPreview(settings.previews_dir, callers, task_group)}
    if settings.fal_key:
        for name in ("fal", "fal-us"):  # both, so that a job follows on when the region changes
            available[name] = FalQueue(
                http,
                settings.fal_key,
                settings.fal_queue_url,
                retry=settings.retry,
                timeout=settings.fal_timeout,
                rest_url=settings.fal_rest_url,
                name=name,
            )
    retry, timeout, polls = settings.retry, settings.fal_timeout, settings.poll_interval
    if settings.runflow_key:
        available["runflow"] = Runflow(
            http, settings.runflow_key, settings.runflow_url, retry=retry, timeout=timeout, poll_interval=polls
        )
    if settings.ark_key:
        own: dict[Model, str | None] = {
            "seedance-2.0": settings.ark_model,
            "seedance-2.0-fast": settings.ark_fast_model,
        }
        models = {**ARK_MODEL_IDS, **{model: id for model, id in own.items() if id}}
        available["ark"] = Ark(
            http, settings.ark_key, settings.ark_url, models=models, retry=retry, timeout=timeout, poll_interval=polls
        )
    return Providers(available, settings.provider, settings.host)
