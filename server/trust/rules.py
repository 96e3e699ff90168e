"""The rules themselves: who is asking (`Caller`, one per request) and what the operator's settings allow
(`Trust`). Kept apart from the package's middleware so that the modules applying the rules (`paths`) can
name them without importing the package that imports them."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.trust.guard import Guard
from server.trust.redaction import Redactor

if TYPE_CHECKING:
    from server.settings import Settings


@dataclass(frozen=True)
class Caller:
    remote: bool  # over HTTP: owns nothing on this machine


OWNER = Caller(remote=False)
CALLER: ContextVar[Caller] = ContextVar("seedance_caller", default=OWNER)


def current_caller() -> Caller:
    return CALLER.get()


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
