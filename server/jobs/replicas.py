"""Who follows a job, as the ledger records it, and whether that follower has died."""

from __future__ import annotations

import os
import socket
import uuid


def replica_name() -> str:
    """Who follows a job, as the ledger records it: the machine, the process, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def gone(follower: str | None) -> bool:
    """A follower on this machine whose process has ended: a server restarted after a crash need not wait
    out the lease of the process it replaces. Elsewhere, or alive, or unsure: False."""
    host, _, rest = (follower or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's process
        return False
    return False
