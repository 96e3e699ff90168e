"""Who may give the server what: the one place that decides what a caller may read and where the
server may connect on a caller's behalf (the documentation's "Trust model", in docs/team.md).

- The operator, through settings, is trusted: host base URLs, the identity provider, the folders named
  in settings, the private hosts it allows.
- The person on stdio owns the machine: their files inside SEEDANCE_ALLOWED_DIRS (not hidden) may be
  passed by path, and results name files on the disk, since the disk is theirs.
- A remote caller over HTTP owns nothing on the server: no file by path (unless the operator shared
  folders with SEEDANCE_SHARED_DIRS, and never SEEDANCE_HOME, the output folder or a hidden file), only
  their own earlier jobs by `seedance://` reference, and no path of the server's disk in any answer.
- Everyone: the server fetches a caller's URL only from a public address (`server.trust.network`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError

from server.trust.network import Guard, Refused, Resolver
from server.trust.paths import open_readable
from server.trust.redaction import Redactor

if TYPE_CHECKING:
    from server.settings import Settings

__all__ = ["Caller", "Guard", "Refused", "Resolver", "Trust", "callers", "current_caller", "open_readable"]


@dataclass(frozen=True)
class Caller:
    remote: bool  # over HTTP: owns nothing on this machine


OWNER = Caller(remote=False)
_current: ContextVar[Caller] = ContextVar("seedance_caller", default=OWNER)


def current_caller() -> Caller:
    return _current.get()


@dataclass(frozen=True)
class Trust:
    """The rules, with what the operator's settings put into them."""

    allowed_dirs: tuple[Path, ...]  # the person on stdio: SEEDANCE_ALLOWED_DIRS
    shared_dirs: tuple[Path, ...] = ()  # remote callers: SEEDANCE_SHARED_DIRS
    private_dirs: tuple[Path, ...] = ()  # never by path over HTTP: SEEDANCE_HOME, the output folder
    guard: Guard = field(default_factory=Guard)

    @classmethod
    def of(cls, settings: Settings, **network: Any) -> Trust:
        """The rules as the operator set them. `network` may name the resolver that looks up callers' host
        names and the network backend beneath the guard (the machine's own, unless a test brings one)."""
        guard = Guard(private_hosts=frozenset(settings.private_media_hosts), **network)
        private = (settings.home, *((settings.output_dir,) if settings.output_dir else ()), settings.films_dir)
        return cls(settings.allowed_dirs, settings.shared_dirs, private, guard)

    def readable_dirs(self, caller: Caller) -> tuple[Path, ...]:
        return self.shared_dirs if caller.remote else self.allowed_dirs

    def redactor(self) -> Redactor:
        return Redactor((*self.allowed_dirs, *self.shared_dirs, *self.private_dirs, Path.home()))


def callers(trust: Trust) -> ServerMiddleware[Any]:
    """Server middleware: a request that came over HTTP runs as a remote caller, and its answer is read
    once more for paths of this machine's disk, which are replaced before it leaves."""
    redact = trust.redactor()

    async def as_the_caller(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        caller = Caller(remote=ctx.request is not None)
        reset = _current.set(caller)
        try:
            result = await call_next(ctx)
        except MCPError as exc:
            if caller.remote and (cleaned := redact.error(exc)) is not exc:
                raise cleaned from None
            raise
        finally:
            _current.reset(reset)
        return redact.result(result) if caller.remote else result

    return as_the_caller
