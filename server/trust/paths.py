"""Which files on this machine a caller may name by path.

The person on stdio may pass files inside SEEDANCE_ALLOWED_DIRS (default: the home folder), never one in
a hidden folder (~/.ssh, ~/.aws, ...) or itself hidden. Both rules are applied to the path as written
before the disk is touched, so the answer for ~/.ssh/id_rsa is the same whether that file exists or not,
and again to the resolved path, so a link cannot lead out. The file is then opened once, along that resolved
path without following any link, and only the open file is read: a link swapped in after the check makes
the open fail rather than lead out.

A remote caller may pass a path only inside a folder the operator shared, never inside SEEDANCE_HOME or
the output folder, and every refusal is the same sentence: whether the file exists, is a folder or is
readable is not the caller's to learn.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from server.errors import InvalidArguments, echo

if TYPE_CHECKING:
    from server.trust.rules import Caller, Trust

INSTEAD = (
    "pass an https:// URL, a data: URI, or an earlier job's seedance:// reference "
    "(seedance://jobs/{request_id}/frames/last for a frame, seedance://jobs/{request_id} for a video)"
)
REMOTE_NO_FILES = "this server reads no file from its own disk for a caller over HTTP"
REMOTE_SHARED_ONLY = (
    "over HTTP this server reads files only from the media folders its operator shared, and this path is not "
    "a readable file in one of them"
)


def _relative(path: Path, folders: tuple[Path, ...]) -> Path | None:
    """`path` relative to the first folder holding it, or None when none does."""
    for folder in folders:
        for root in dict.fromkeys((Path(os.path.abspath(folder)), folder.resolve())):
            if path.is_relative_to(root):
                return path.relative_to(root)
    return None


def _place_problem(path: Path, trust: Trust, caller: Caller, written: Path | None = None) -> str | None:
    """Why `path` may not be read by this caller, judged by its name alone.

    When `path` is where the link `written` leads, the message names the link: where a link points is
    not the caller's to learn from a refusal."""
    folders = trust.readable_dirs(caller)
    relative = _relative(path, folders)
    shown = echo(str(written or path), end=True)
    if relative is None:
        listed = ", ".join(str(d) for d in folders) or "none"
        where = "leads outside" if written else "is outside"
        return f"{shown} {where} the folders this server may read ({listed})"
    if any(part.startswith(".") for part in relative.parts):
        where = "leads to a hidden file or folder" if written else "is hidden or inside a hidden folder"
        return f"{shown} {where}, which this server never reads"
    if caller.remote and _relative(path, trust.private_dirs) is not None:
        return "inside the server's own folders"
    return None


def _open_exactly(path: Path) -> BinaryIO:
    """`path`, a resolved path, opened without following a link in any of its components, so that what is
    read is the very file whose name was checked: a link put in its place (or in place of a folder above it)
    after the check fails the open instead of leading elsewhere. A FIFO or device is never waited on.
    OSError when it cannot be opened that way, or is not a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    if os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW"):
        parent = os.open(path.anchor, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in path.parts[1:-1]:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                os.close(parent)
                parent = inner
            fd = os.open(path.name, flags, dir_fd=parent)
        finally:
            os.close(parent)
    else:  # no openat here (Windows): the open file must be the one the name still names, and no link
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
        named = os.lstat(path)
        if stat.S_ISLNK(named.st_mode) or not os.path.samestat(named, os.fstat(fd)):
            os.close(fd)
            raise OSError(f"{path} changed while it was opened")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(f"{path} is not a regular file")
    if getattr(os, "O_NONBLOCK", 0):  # opened so as not to wait on a FIFO; a regular file reads as usual
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def open_readable(field: str, raw: Path, trust: Trust, caller: Caller) -> tuple[Path, BinaryIO]:
    """The file `raw` names, opened once, if this caller may read it; InvalidArguments otherwise.

    Everything after this reads the open file (or bytes taken from it), never the path again: a name
    checked and then opened again could by then lead somewhere else."""
    if caller.remote:
        return _remote(field, raw, trust, caller)
    problem = _place_problem(Path(os.path.abspath(raw)), trust, caller)  # as written: the disk is not read
    if problem is None:
        try:
            path = raw.resolve(strict=True)
        except (OSError, RuntimeError):
            raise InvalidArguments(
                field, f"there is no file at {echo(str(raw), end=True)}", "pass the path of an existing file"
            ) from None
        problem = _place_problem(path, trust, caller, raw if path != Path(os.path.abspath(raw)) else None)
    if problem is not None:
        fix = (
            "use a file that is not in a hidden folder such as ~/.ssh"
            if "hidden" in problem
            else ("move the file into one of them, or have the user add its folder to SEEDANCE_ALLOWED_DIRS")
        )
        raise InvalidArguments(field, problem, fix)
    try:
        return path, _open_exactly(path)
    except IsADirectoryError:
        raise InvalidArguments(field, f"{echo(str(raw), end=True)} is not a file", "pass the path of a file") from None
    except OSError:
        raise InvalidArguments(
            field,
            f"{echo(str(raw), end=True)} could not be opened as the file that was checked (it is unreadable, or "
            "it or a folder above it was replaced while it was read)",
            "pass the path of a readable file that stays in place",
        ) from None


def _remote(field: str, raw: Path, trust: Trust, caller: Caller) -> tuple[Path, BinaryIO]:
    """One answer for every refusal: nothing about the disk may be told apart by it."""
    refusal = InvalidArguments(field, REMOTE_SHARED_ONLY if trust.shared_dirs else REMOTE_NO_FILES, INSTEAD)
    if not trust.shared_dirs or _place_problem(Path(os.path.abspath(raw)), trust, caller):
        raise refusal
    try:
        path = raw.resolve(strict=True)
    except (OSError, RuntimeError):
        raise refusal from None
    if _place_problem(path, trust, caller):
        raise refusal
    try:
        return path, _open_exactly(path)
    except OSError:
        raise refusal from None
