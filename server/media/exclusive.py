"""Files put into a person's folder without ever replacing one that is there.

A video or film is written whole to a hidden temporary file beside its place, then hard-linked under its
name, which fails rather than replaces when the name is taken: so a crash leaves nothing or the whole
file, and two saves of one name (two takes of one prompt in one second, two films of one title) both
survive, the later as `name (2).mp4`. A name is taken only when its sidecar's name is free too, so that
a video and its `.json` always share a stem.
"""

from __future__ import annotations

import errno
import itertools
import os
import tempfile
import uuid
from pathlib import Path

NAMES_TRIED = 1000  # then a random suffix: a folder with a thousand files of one name is someone's test
NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS)  # FAT, some network shares


def temporary(folder: Path, suffix: str) -> Path:
    """A new, empty, hidden file in `folder`, this writer's own: where the whole file is written first."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, prefix=".seedance-", suffix=suffix + ".part")
    os.close(handle)
    return Path(name)


def names(name: str) -> itertools.chain[str]:
    """`name`, then `name (2)` to `name (1000)`, then with random suffixes: the names a copy may take."""
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot else (name, "")
    tried = (name, *(f"{stem} ({n}){ext}" for n in range(2, NAMES_TRIED + 1)))
    return itertools.chain(tried, (f"{stem} {uuid.uuid4().hex[:8]}{ext}" for _ in itertools.count()))


def _link(part: Path, target: Path) -> bool:
    """`part` under `target`, if that name is free; False when it is taken."""
    try:
        os.link(part, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in NO_LINKS:
            raise
        try:  # no hard links here: claim the name with an empty file of our own, then move over it
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            return False
        os.replace(part, target)
        return True
    part.unlink()
    return True


def place(part: Path, folder: Path, name: str) -> Path:
    """Put the finished `part` into `folder` as `name`, or the first free `name (n)`; never over a file. A
    name counts as free only when its sidecar's name (`.json` instead) is free too."""
    for candidate in names(name):
        target = folder / candidate
        if target.with_suffix(".json").exists():
            continue
        if _link(part, target):
            return target
    raise AssertionError("unreachable: the names never run out")


def write_new(path: Path, data: bytes) -> bool:
    """Write a small file (a sidecar) whole under `path` if that name is free; False, and nothing written,
    when a file is already there."""
    part = temporary(path.parent, path.suffix)
    try:
        part.write_bytes(data)
        return _link(part, path)
    finally:
        part.unlink(missing_ok=True)
