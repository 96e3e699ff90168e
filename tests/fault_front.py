"""A TCP front for the fake fal: the faults only a network makes, per operation.

Each operation has its own door (port): submit, status (and its stream), result, cancel, and the CDN
that serves finished videos (the download). The fake's answers hand out URLs on those doors, as fal
hands out its own URLs, so a fault can hit one operation and not the others:

- refused: the door stops listening until it is reopened, so connecting fails with ECONNREFUSED;
- reset: the request is passed on (a submit creates its job), then the connection is torn down with a
  TCP RST instead of an answer;
- hang: the request is passed on and no answer ever comes.

Everything else is passed through byte for byte, with `Connection: close` so one request is one connection.

Hosts that serve every operation from one base URL (Runflow, ModelArk) get one "api" door: their fake
names each answer's operation in an `X-Fake-Op` header (which the front strips), and may name the
operation that comes next in `X-Fake-Next`, so that a door can be closed just before that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

DOORS = ("submit", "status", "result", "cancel", "cdn")
HOST_DOORS = ("api", "cdn")
TCP_FAULTS = frozenset({"reset", "hang"})


def fal_op(door: str, path: str) -> str | None:
    """fal's operation from the door and path: each has its own URL."""
    if door == "status" and path.endswith("/stream"):
        return "stream"
    return "download" if door == "cdn" else door


def host_op(door: str, path: str) -> str | None:
    """A task API's operation is known only from its answer (None), except the CDN's download."""
    return "download" if door == "cdn" else None


class FaultQueue:
    """Faults waiting for the operations they are meant for: what every fake shares."""

    lock: threading.Lock
    faults: dict[str, deque[str]]

    def queue_fault(self, op: str, fault: str, times: int) -> None:
        with self.lock:
            self.faults.setdefault(op, deque()).extend([fault] * times)

    def pending_faults(self, op: str) -> list[str]:
        with self.lock:
            return list(self.faults.get(op, ()))

    def next_fault(self, op: str) -> str | None:
        with self.lock:
            queue = self.faults.get(op)
            return queue[0] if queue else None

    def _take(self, op: str, kinds: frozenset[str]) -> str | None:
        """The next fault for `op`, when it is one of `kinds` (each handler answers its own kinds)."""
        with self.lock:
            queue = self.faults.get(op)
            if queue and queue[0] in kinds:
                return queue.popleft()
        return None


class FaultFront:
    def __init__(
        self,
        upstream_port: int,
        take_fault: Callable[[str], str | None],
        doors: tuple[str, ...] = DOORS,
        op_of: Callable[[str, str], str | None] = fal_op,
    ) -> None:
        self._upstream = upstream_port
        self._take_fault = take_fault  # op -> a TCP fault to apply to this request, or None
        self._doors = doors
        self._op_of = op_of
        self._close_before: set[str] = set()  # ops whose door closes as the answer before them is relayed
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fault-front")
        self._servers: dict[str, asyncio.Server | None] = {}
        self._open_connections: set[asyncio.StreamWriter] = set()
        self.ports: dict[str, int] = {}

    def start(self) -> None:
        self._thread.start()
        for door in self._doors:
            self._call(self._open(door, 0))

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _shutdown(self) -> None:
        for door in self._doors:
            await self._close(door)
        for writer in list(self._open_connections):
            writer.transport.abort()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def refuse(self, door: str) -> None:
        """Stop listening on `door` until `reopen_all()`: tests reopen on an event, never after a time."""
        self._call(self._close(door))

    def refuse_before(self, op: str) -> None:
        """Close the "api" door just before relaying the answer whose `X-Fake-Next` is `op`."""
        self._close_before.add(op)

    def reopen_all(self) -> None:
        """Every door listening again at once (between tests)."""
        self._call(self._reopen_all())

    async def _reopen_all(self) -> None:
        self._close_before.clear()
        for door in self._doors:
            if self._servers.get(door) is None:
                await self._open(door, self.ports[door])

    def _call(self, coroutine: object) -> object:
        future: Future[object] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        return future.result(timeout=5)

    async def _open(self, door: str, port: int) -> None:
        server = await asyncio.start_server(
            lambda r, w: self._handle(door, r, w), "127.0.0.1", port, reuse_address=True
        )
        self._servers[door] = server
        self.ports[door] = server.sockets[0].getsockname()[1]

    async def _close(self, door: str) -> None:
        server = self._servers.pop(door, None)
        if server is not None:
            server.close()

    async def _handle(self, door: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer: asyncio.StreamWriter | None = None
        self._open_connections.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1].split("?")[0]
            length = next((int(h.split(":", 1)[1]) for h in lines[1:] if h.lower().startswith("content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            op = self._op_of(door, path)
            fault = self._take_fault(op) if op is not None else None
            kept = [h for h in lines[1:] if h and not h.lower().startswith("connection:")]
            forwarded = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1") + body
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self._upstream)
            self._open_connections.add(upstream_writer)
            upstream_writer.write(forwarded)
            await upstream_writer.drain()
            if op is None:  # the answer says what it was
                await self._relay_named(door, reader, writer, upstream_reader)
                return
            if fault == "hang":
                await reader.read()  # until the client gives up
                return
            if fault == "reset":
                if op == "stream":
                    await upstream_reader.read(1)
                else:
                    await upstream_reader.read()  # fal finished handling it: a submit's job exists
                _reset(writer)
                return
            while chunk := await upstream_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError, ValueError):
            pass
        finally:
            self._open_connections.discard(writer)
            if upstream_writer is not None:
                self._open_connections.discard(upstream_writer)
            for side in (upstream_writer, writer):
                if side is not None and not side.is_closing():
                    side.close()

    async def _relay_named(
        self,
        door: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream_reader: asyncio.StreamReader,
    ) -> None:
        answer = await upstream_reader.read()  # a task API's answers are short and end
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        named = {h.split(":", 1)[0].lower(): h.split(":", 1)[1].strip() for h in lines[1:] if ":" in h}
        fault = self._take_fault(named.get("x-fake-op", "unknown"))
        following = named.get("x-fake-next")
        if following in self._close_before:
            self._close_before.discard(following)
            await self._close(door)
        if fault == "hang":
            await reader.read()
            return
        if fault == "reset":
            _reset(writer)
            return
        kept = [h for h in lines if not h.lower().startswith(("x-fake-op:", "x-fake-next:"))]
        writer.write("\r\n".join(kept).encode("latin-1") + b"\r\n\r\n" + body)
        await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Tear the connection down with a TCP RST, as a crashed peer or a middlebox would."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
