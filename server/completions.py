"""Argument completion (`completion/complete`): what a client offers as the person types an argument.

A prompt's argument completes from its choices (a storyboard's model, resolution and aspect ratio); the
`{request_id}` of a job resource from the caller's own jobs and the `{film_id}` of a film from their
films, newest first. Nothing else is known, so anything else completes to nothing, never to an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.prompts import Prompt
from mcp.types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from server.films import FILMS_URI
from server.prompts import choices
from server.resources import JOBS_URI, RECENT_LIMIT
from server.state import AppState
from server.trust.owners import current_person

MOST = 100  # the protocol's limit on the values of one answer


def register_completions(mcp: MCPServer[Any], state: Callable[[], AppState], prompts: Sequence[Prompt]) -> None:
    offered = {prompt.name: choices(prompt) for prompt in prompts}

    async def candidates(ref: PromptReference | ResourceTemplateReference, name: str) -> Sequence[str]:
        if isinstance(ref, PromptReference):
            return offered.get(ref.name, {}).get(name, ())
        person = current_person()
        if ref.uri.startswith(f"{JOBS_URI}/") and name == "request_id":
            return [job.request_id for job in await state().ledger.recent(RECENT_LIMIT, owner=person.only)]
        if ref.uri.startswith(f"{FILMS_URI}/") and name == "film_id":
            ledger = state().ledger
            return [film.film_id for film in await person.films(ledger, await ledger.films(RECENT_LIMIT))]
        return ()

    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        matching = [value for value in await candidates(ref, argument.name) if value.startswith(argument.value)]
        return Completion(values=matching[:MOST], total=len(matching), has_more=len(matching) > MOST)

    mcp.completion()(complete)  # type: ignore[no-untyped-call]  # the SDK's decorator carries no types
