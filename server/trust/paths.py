"""Which files on this machine a caller may name by path.

The person on stdio may pass files inside SEEDANCE_ALLOWED_DIRS (default: the home folder), never one in
a hidden folder (~/.ssh, ~/.aws, ...) or itself hidden. Both rules are applied to the path as written
before the disk is touched, so the answer for ~/.ssh/id_rsa is the same whether that file exists or not,
and again to the resolved path, so a link cannot lead out.

A remote caller may pass a path only inside a folder the operator shared, never inside SEEDANCE_HOME or
the output folder, and every refusal is the same sentence: whether the file exists, is a folder or is
readable is not the caller's to learn.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from server.errors import InvalidArguments, echo

if TYPE_CHECKING:
    from server.trust import Caller, Trust

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


def readable_file(field: str, raw: Path, trust: Trust, caller: Caller) -> Path:
    """The resolved file `raw` names, if this caller may read it; InvalidArguments otherwise."""
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
    if not path.is_file():
        raise InvalidArguments(field, f"{echo(str(raw), end=True)} is not a file", "pass the path of a file")
    return path


def _remote(field: str, raw: Path, trust: Trust, caller: Caller) -> Path:
    """One answer for every refusal: nothing about the disk may be told apart by it."""
    refusal = InvalidArguments(field, REMOTE_SHARED_ONLY if trust.shared_dirs else REMOTE_NO_FILES, INSTEAD)
    if not trust.shared_dirs or _place_problem(Path(os.path.abspath(raw)), trust, caller):
        raise refusal
    try:
        path = raw.resolve(strict=True)
    except (OSError, RuntimeError):
        raise refusal from None
    if _place_problem(path, trust, caller) or not path.is_file() or not os.access(path, os.R_OK):
        raise refusal
    return path
