"""A real PostgreSQL server for the tests: Debian's binaries, a throwaway cluster, a fresh database per test.

PostgreSQL refuses to run as root, which CI is, so as root the cluster belongs to the `postgres` user the
Debian package creates, in a folder outside pytest's root-only temporary tree. It listens on 127.0.0.1
only, with trust authentication, and is fast rather than durable (no fsync): it is thrown away after.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

READY = "database system is ready to accept connections"
START_SECONDS = 60.0
PORT_TRIES = 5
OWNER = "postgres"  # who runs the server when the tests run as root


def binary(name: str) -> str:
    """A PostgreSQL program: on the PATH, or in Debian's versioned folder (newest first)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found: install Debian's postgresql package "
            "(apt-get install postgresql), as .ci/run does"
        )
    return found


class PortTaken(RuntimeError):
    """PostgreSQL could not bind its port: another process took it after it was chosen."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="seedance-pg-"))
        self.port = 0  # chosen as the server starts
        self._names = itertools.count(1)
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            owner = pwd.getpwnam(OWNER)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        self.process: subprocess.Popen[str] | None = None
        self._log: threading.Thread | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://seedance@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        data = self.folder / "data"
        subprocess.run(
            [binary("initdb"), "-D", str(data), "-U", "seedance", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            **self._as,
        )
        for attempt in range(1, PORT_TRIES + 1):  # PostgreSQL binds the port it is given: another may take it first
            self.port = _free_port()
            try:
                self._launch()
                return
            except PortTaken:
                if attempt == PORT_TRIES:
                    raise

    def _launch(self) -> None:
        """The server on `self.port`, over the data folder, once it says it is ready."""
        self.process = subprocess.Popen(
            [
                binary("postgres"),
                "-D",
                str(self.folder / "data"),
                "-p",
                str(self.port),
                "-k",
                str(self.folder),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            **self._as,
        )
        try:
            self._await_ready()
        except PortTaken:
            self.process.wait(timeout=START_SECONDS)
            if self.process.stderr is not None:
                self.process.stderr.close()
            raise

    def halt(self) -> None:
        """Stop the server as an outage would, keeping its data: `resume` starts it again on the same port."""
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # "fast": clients are cut off (SIGTERM, "smart", waits for them)
            self.process.wait(timeout=START_SECONDS)
            if self._log is not None:
                self._log.join(timeout=START_SECONDS)  # the log ends when the server has gone
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None

    def resume(self) -> None:
        self._launch()

    def _await_ready(self) -> None:
        """Read the server's log until it says it is ready; its log goes on being drained after."""
        assert self.process is not None and self.process.stderr is not None
        lines: queue.Queue[str | None] = queue.Queue()
        stream = self.process.stderr

        def drain() -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        self._log = threading.Thread(target=drain, daemon=True, name="postgres log")
        self._log.start()
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=START_SECONDS)
            except queue.Empty:
                raise RuntimeError(f"PostgreSQL did not start in {START_SECONDS:.0f} s: {''.join(seen)}") from None
            if line is None:
                stopped = PortTaken if "Address already in use" in "".join(seen) else RuntimeError
                raise stopped(f"PostgreSQL stopped while starting: {''.join(seen)}")
            seen.append(line)
            if READY in line:
                return

    def fresh_database(self) -> str:
        """A new empty database, and its URL: each test has its own."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
