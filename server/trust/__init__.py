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

from typing import TYPE_CHECKING, Any

from server.trust.guard import Guard, Refused, Resolver
from server.trust.paths import open_readable
from server.trust.rules import CALLER, Caller, Trust, current_caller

if TYPE_CHECKING:  # reading a setting's host goes through this package, before the SDK is needed
    from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

__all__ = ["Caller", "Guard", "Refused", "Resolver", "Trust", "callers", "current_caller", "open_readable"]


def callers(trust: Trust) -> ServerMiddleware[Any]:
    """Server middleware: a request that came over HTTP runs as a remote caller, and its answer is read
    once more for paths of this machine's disk, which are replaced before it leaves."""
    from mcp.shared.exceptions import MCPError

    redact = trust.redactor()

    async def as_the_caller(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        caller = Caller(remote=ctx.request is not None)
        reset = CALLER.set(caller)
        try:
            result = await call_next(ctx)
        except MCPError as exc:
            if caller.remote and (cleaned := redact.error(exc)) is not exc:
                raise cleaned from None
            raise
        finally:
            CALLER.reset(reset)
        return redact.result(result) if caller.remote else result

    return as_the_caller
