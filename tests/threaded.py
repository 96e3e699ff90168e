"""A fake's app, served by uvicorn on a thread of its own, behind the TCP front that makes network faults."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tests.fault_front import FaultFront

START_SECONDS = 10.0


class Served:
    def __init__(self, app: Starlette, take: Callable[[str], str | None], **front: Any) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.front = FaultFront(sock.getsockname()[1], take, **front)
        self.front.start()
        self.doors = {door: f"http://127.0.0.1:{port}" for door, port in self.front.ports.items()}
        self.server, self.thread = serve_in_thread(app, sock)

    def stop(self) -> None:
        self.front.stop()
        self.server.should_exit = True
        self.thread.join(timeout=5)


def serve_in_thread(app: Starlette, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:
    """uvicorn serving `app` on the bound `sock` from a thread of its own, once it has started."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{type(app).__name__} did not start")
        time.sleep(0.01)
    return server, thread
