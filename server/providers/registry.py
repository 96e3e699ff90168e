"""Which providers exist in this process and which one takes new jobs, from the settings.

Every provider whose settings are present is built, not only the active one, so a job stays
followable after the active provider changes; each is built the same way whatever it is. A host's module is
imported only when its key is set: a desktop start pays for no client it will not use.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
from anyio.abc import TaskGroup

from server.catalog import Model
from server.catalog.offers import ARK_MODEL_IDS
from server.errors import ConfigurationError
from server.providers.base import Provider
from server.providers.local import LocalPreview
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
    """Where the videos of every host this server is set up for are served from, its own links' origin, then
    the operator's own."""
    hosts = [
        host
        for host, key in (("fal", settings.fal_key), ("runflow", settings.runflow_key), ("ark", settings.ark_key))
        if key
    ]
    origins = [origin for host in hosts for origin in _provider_class(host).media_origins]
    if settings.callback_base is not None:  # the server's own signed links, under its public URL
        public = urlsplit(settings.callback_base)
        origins.append(f"{public.scheme}://{public.netloc}")
    return tuple(dict.fromkeys([*origins, *settings.media_origins]))


def _provider_class(host: str) -> type[Provider]:
    if host == "fal":
        from server.providers.fal import FalQueue

        return FalQueue
    if host == "runflow":
        from server.providers.runflow import Runflow

        return Runflow
    from server.providers.ark import Ark

    return Ark


def create_providers(
    settings: Settings, http: httpx2.AsyncClient, callers: CallerHttp, task_group: TaskGroup
) -> Providers:
    """Every host with a key, and the preview, which fetches callers' URLs itself, through `callers`."""
    available: dict[str, Provider] = {"local": LocalPreview(settings.previews_dir, callers, task_group)}
    if settings.fal_key:
        from server.providers.fal import FalQueue

        keys = None
        if settings.webhooks:
            from server.webhooks.fal import FalKeys  # cryptography: only for a server the hosts call back

            keys = FalKeys(http, settings.fal_jwks_url)
        for name in ("fal", "fal-us"):  # both, so that a job follows on when the region changes
            available[name] = FalQueue(
                http,
                settings.fal_key,
                settings.fal_queue_url,
                retry=settings.retry,
                timeout=settings.fal_timeout,
                rest_url=settings.fal_rest_url,
                name=name,
                keys=keys,
            )
    retry, timeout, polls = settings.retry, settings.fal_timeout, settings.poll_interval
    if settings.runflow_key:
        from server.providers.runflow import Runflow

        available["runflow"] = Runflow(
            http,
            settings.runflow_key,
            settings.runflow_url,
            retry=retry,
            timeout=timeout,
            poll_interval=polls,
            webhook_secrets=settings.runflow_webhook_secrets if settings.webhooks else (),
        )
    if settings.ark_key:
        from server.providers.ark import Ark

        own: dict[Model, str | None] = {
            "seedance-2.0": settings.ark_model,
            "seedance-2.0-fast": settings.ark_fast_model,
        }
        models = {**ARK_MODEL_IDS, **{model: id for model, id in own.items() if id}}
        available["ark"] = Ark(
            http,
            settings.ark_key,
            settings.ark_url,
            models=models,
            retry=retry,
            timeout=timeout,
            poll_interval=polls,
            calls_back=settings.webhooks,
        )
    return Providers(available, settings.provider, settings.host)
