"""The folders the server writes to, and what to say when one cannot be written.

At start, SEEDANCE_HOME and the output folder are tried once, so that an unusable one stops the server with
one line naming the setting, the folder and the fix, instead of a traceback from the ledger or a tool
error an hour later. Trying leaves nothing behind: a folder that is not there yet is not made, but the
nearest one above it that is there must take a new folder. While the server runs, a write that fails all
the same (the disk filled, the folder was made read-only) is a tool error that says the same things.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.errors import SeedanceError

HOME = "SEEDANCE_HOME"  # the setting behind every folder the server keeps for itself (previews, frames)


class FolderUnwritable(SeedanceError):
    """Raised when the server cannot write where a setting told it to; the message names both."""


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def unusable(folder: Path) -> str | None:
    """Why the server could not write in `folder`, or None when it can. Nothing is left behind."""
    existing = folder
    while not existing.exists():
        if existing.is_symlink():
            return f"{existing} is a link that leads nowhere"
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return "it is a file, not a folder" if existing == folder else f"{existing} is not a folder"
    try:
        if existing == folder:
            with tempfile.TemporaryFile(dir=folder):
                pass
        else:
            os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".seedance-"))
    except OSError as exc:
        if existing == folder:
            return f"it cannot be written ({_reason(exc)})"
        return f"it cannot be made in {existing} ({_reason(exc)})"
    return None


def refusal(setting: str, folder: Path) -> str | None:
    """The one line that stops the server when `folder`, from `setting`, is unusable; None when it is fine."""
    why = unusable(folder)
    if why is None:
        return None
    return (
        f"seedance-mcp: {setting}={str(folder)[:200]!r} is not a folder this server can write to: {why}. "
        f"Set {setting} to a folder you can write, or make that one writable"
    )


@contextmanager
def writing(folder: Path, setting: str) -> Iterator[None]:
    """Writes into `folder` (which `setting` chose): a failure is a tool error naming both and the fix."""
    try:
        yield
    except OSError as exc:
        why = unusable(folder) or _reason(exc)  # "it is a file, not a folder" says more than "file exists"
        raise FolderUnwritable(
            f"Could not write to {folder} ({setting}): {why}. Nothing was charged for it. Fix: free "
            f"space or make the folder writable, or have the user set {setting} to a folder that is, then call "
            "again."
        ) from exc
