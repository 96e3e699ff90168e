"""Assembles the MCP server: tools, resources, argument checks, and a lifespan that owns the ledger,
the HTTP client and the background job watchers."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
from mcp.server import MCPServer
from mcp.server.request_state import RequestStateSecurity
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.subscriptions import ResourceUpdated

import tools
from server import __version__
from server.card import card_resource
from server.card.visibility import hide_app_only_tools
from server.completions import register_completions
from server.inputs.arguments import argument_checker
from server.jobs.tracker import JobTracker
from server.jobs.views import JOB_URI
from server.ledger import JobRecord, open_ledger
from server.media.links import handing_out, links_of
from server.media.saving import Keeper
from server.operations.call_limits import operator_limits
from server.operations.draining import Drain
from server.operations.logs import request_context
from server.operations.timing import tool_metrics
from server.prompts import PROMPTS
from server.providers.registry import create_providers, media_origins
from server.resources import JOBS_URI, register_film_resources, register_resources
from server.settings import Settings
from server.state import AppState, StateRef
from server.tasks import Tasks, legacy_tasks
from server.transport.http_client import LazyClient
from server.transport.legacy_subscriptions import LegacySubscriptions
from server.trust import Trust, callers
from server.trust.network import CallerHttp
from server.trust.owners import people

logger = logging.getLogger(__name__)

INSTRUCTIONS = """\
Seedance video generation (models seedance-2.0, -2.0-fast, -2.0-mini and -2.5). Every generation costs real \
money (on fal about $0.30 per second of 720p video with seedance-2.0, 20% less with fast, half with mini, about \
$0.46 with 2.5; about half those on BytePlus ModelArk) and takes 30 s to several minutes. Without a provider \
key the server makes free offline previews instead, and says so in every result.
1. Call estimate_cost first and tell the user the price. The server refuses jobs above its per-job cap or \
daily budget, and has the user confirm a costly one: in a dialog where the client has one, otherwise by refusing \
it with its price until you call again with confirm_cost=true - do that only after the user agreed to the price.
2. Generate with generate_text_video (prompt only), animate_image (a start image, optional end image) or \
reference_video (images/videos/audio named @Image1, @Video1, @Audio1 in the prompt). Media can be https URLs, \
data: URIs or local file paths. The prompts seedance_prompt and reference_prompt show how to write for Seedance. \
On seedance-2.5, draft=true makes a cheap 480p take; complete_draft renders a chosen draft at 1080p.
3. A generation call waits up to wait_seconds. If it returns status "queued" or "in_progress", that is not an \
error: call get_job with the request_id to keep waiting. Calling the same generation again returns the same \
job (force_new=true starts a new, billed one).
4. A finished job links its MP4, a copy saved on this computer, and a poster frame. list_jobs shows past jobs; \
cancel_job stops one the user no longer wants.
5. Longer films are made shot by shot (the storyboard prompt shows how): inspect_video shows a finished video as \
a contact sheet; an image slot takes an earlier job's frame, image_url="seedance://jobs/{request_id}/frames/last", \
so a shot starts where the last ended; make_film joins finished shots into one MP4 for free.
Jobs are also resources: seedance://jobs, seedance://jobs/{request_id} and seedance://jobs/{request_id}/video; \
films are seedance://films and seedance://films/{film_id}."""

HTTP_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=50)


def build_server(
    settings: Settings, trust: Trust | None = None, *, ref: StateRef | None = None, drain: Drain | None = None
) -> MCPServer[AppState]:
    """The server for these settings; `trust` holds who may give it what (by default as the settings say).
    The HTTP server passes `ref`, through which its probes read the running state, and the `drain` it begins
    on SIGTERM."""
    trust = Trust.of(settings) if trust is None else trust
    bus = InMemorySubscriptionBus()
    legacy = LegacySubscriptions()
    ref = StateRef() if ref is None else ref
    drain = Drain(settings.drain_seconds) if drain is None else drain

    async def job_finished(record: JobRecord) -> None:
        for uri in (JOB_URI.format(request_id=record.request_id), JOBS_URI):
            await bus.publish(ResourceUpdated(uri=uri))
            await legacy.notify(uri)

    @asynccontextmanager
    async def lifespan(server: MCPServer[AppState]) -> AsyncIterator[AppState]:
        async with (
            open_ledger(settings) as ledger,
            LazyClient(limits=HTTP_LIMITS) as http,
            anyio.create_task_group() as tg,
        ):
            await ledger.forget_tasks(time.time())  # tasks past their time to live, from before this start
            providers = create_providers(settings, http, callers_http, tg)
            keeper = Keeper(
                http,
                settings.output_dir,
                settings.posters_dir,
                settings.cache_dir,
                settings.fal_timeout,
                settings.retry,
                bucket=bucket,
            )
            tracker = JobTracker(
                ledger,
                providers,
                tg,
                on_finished=job_finished,
                dedup_seconds=settings.dedup_seconds,
                keep=keeper.keep,
                lease_seconds=settings.lease_seconds,
                callbacks=settings.callback_base,
                fallback_seconds=settings.webhook_fallback_seconds,
            )
            tg.start_soon(tracker.run, name="ledger changes and orphaned jobs")
            drain.wakes(tracker.drain)
            ref.current = AppState(
                settings=settings,
                ledger=ledger,
                tracker=tracker,
                http=http,
                keeper=keeper,
                trust=trust,
                callers_http=callers_http,
            )
            ready = "" if providers.active in providers.available else " (missing FAL_KEY)"
            logger.info(
                "seedance-mcp %s ready: provider=%s%s ledger=%s",
                __version__,
                providers.active,
                ready,
                ledger.description,
            )
            if settings.database_url and not settings.request_state_keys:
                logger.warning(
                    "SEEDANCE_REQUEST_STATE_KEYS is not set: an answer to a cost question that reaches another "
                    "replica is refused as invalid, and the call has to be made again"
                )
            try:
                yield ref.current
            finally:
                ref.current = None
                tg.cancel_scope.cancel()
                await callers_http.aclose()
                if verifier is not None:
                    await verifier.aclose()

    callers_http = CallerHttp(trust.guard)
    links = links_of(settings)
    bucket = None
    if settings.storage_url is not None:
        from server.media.bucket import Bucket  # obstore only where a bucket is used

        bucket = Bucket(settings.storage_url)
    auth, verifier = None, None
    if settings.oauth_issuer:
        from server.transport.sign_in import protected_resource  # jwt and its keys only where sign-in is set up

        auth, verifier = protected_resource(settings)
    tool_names = {tool.name for tool in tools.ALL}
    mcp: MCPServer[AppState] = MCPServer(
        "seedance-mcp",
        title="Seedance video",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://github.com/seedance-mcp/seedance-mcp",
        tools=tools.ALL,
        lifespan=lifespan,
        subscriptions=bus,
        middleware=[
            request_context(tool_names),
            tool_metrics(),
            callers(trust),
            people(settings.oauth_admin_scope),
            drain.middleware(),
            *operator_limits(settings),
            argument_checker(tools.ALL, PROMPTS),
            hide_app_only_tools,
            legacy_tasks(tools.LONG, ref),
            *([handing_out(links)] if links is not None else []),
        ],
        extensions=[card_resource(media_origins(settings)), Tasks(ref, tools.LONG)],
        request_state_security=RequestStateSecurity(keys=settings.request_state_keys)
        if settings.request_state_keys
        else None,  # None: a key of this process's own, which another replica cannot open
        log_level=settings.log_level if settings.log_level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO",  # type: ignore[arg-type]
        auth=auth,
        token_verifier=verifier,
    )
    if auth is not None:
        from server.transport.sign_in import publish_bare_metadata

        publish_bare_metadata(mcp, auth)
    register_resources(mcp, ref)
    register_film_resources(mcp, ref)
    for prompt in PROMPTS:
        mcp.add_prompt(prompt)
    register_completions(mcp, ref, PROMPTS)
    legacy.install(mcp)
    return mcp
