"""Who is asking: the person a request's access token names, and which jobs that person may see.

Over stdio, or over HTTP without sign-in, there is one person, who sees every job. With sign-in a job
belongs to the subject of the token that started it ("token" for the shared SEEDANCE_HTTP_TOKEN), and a
person sees only their own jobs unless their token carries the admin scope. Someone else's job is
answered as not found, so that whether it exists does not leak either.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

if TYPE_CHECKING:
    from server.ledger import FilmRecord, JobRecord, Ledger

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    name: str | None  # recorded as the owner of the jobs they start; None: nobody signed in
    admin: bool = True  # sees every job

    def may_see(self, record: JobRecord) -> bool:
        return self.admin or record.owner == self.name

    @property
    def only(self) -> str | None:
        """The owner whose jobs a listing shows; None: everyone's."""
        return None if self.admin else self.name

    async def may_see_film(self, ledger: Ledger, film: FilmRecord) -> bool:
        """A film is made of jobs: whoever may see every one of them may see it."""
        if self.admin:
            return True
        shots = [await ledger.get(request_id) for request_id in film.request_ids]
        return all(shot is not None and self.may_see(shot) for shot in shots)

    async def films(self, ledger: Ledger, films: list[FilmRecord]) -> list[FilmRecord]:
        return [film for film in films if await self.may_see_film(ledger, film)]


NOBODY = Person(None)
_current: ContextVar[Person] = ContextVar("seedance_person", default=NOBODY)


def current_person() -> Person:
    return _current.get()


def person_of(token: AccessToken | None, admin_scope: str) -> Person:
    if token is None:
        return NOBODY
    return Person(token.subject or token.client_id, admin_scope in token.scopes)


def people(admin_scope: str) -> ServerMiddleware[Any]:
    """Server middleware: each request runs as the person its access token names."""

    async def as_the_person(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        person = person_of(get_access_token(), admin_scope)
        if person.name is not None and ctx.method == "tools/call":
            logger.info("%s calls %s", person.name, (ctx.params or {}).get("name"))
        reset = _current.set(person)
        try:
            return await call_next(ctx)
        finally:
            _current.reset(reset)

    return as_the_person
