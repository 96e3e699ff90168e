"""A fake host's webhook deliveries: sent from a thread of their own once a job ends, as a host sends them,
whether or not anybody asks the host about the job. A test may make the next deliveries go wrong: `drop`
(never sent), `repeat` (sent twice), `hold` (kept until `release()`), or `forge` (a forged one first, signed
with a key the server does not know, or for an unsigned host one that lies; the real one follows). Every
answer the server gave is kept in `answers`. Deliveries go one at a time unless `senders` says more, as a
benchmark of many jobs needs.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import httpx2

Fault = Literal["drop", "repeat", "hold", "forge"]
TICK_SECONDS = 0.02  # how often the thread looks for ended jobs: as the fakes' status streams do
SEND_SECONDS = 15.0  # fal's bound on one delivery


@dataclass(frozen=True)
class Delivery:
    url: str
    body: bytes
    headers: dict[str, str]


# (job id) -> the delivery once the job has ended, None before; `forged` asks for a bad signature.
Compose = Callable[[str, str, bool], Delivery | None]


class Deliveries:
    def __init__(self, compose: Compose) -> None:
        self._compose = compose
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.tick_seconds = TICK_SECONDS
        self.senders = 1  # deliveries at once
        self._http = httpx2.Client(timeout=SEND_SECONDS, limits=httpx2.Limits(max_keepalive_connections=0))
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self._waiting: dict[str, str] = {}  # job id -> the webhook URL its submit gave
            self._faults: deque[Fault] = deque()
            self.held: list[Delivery] = []
            self.answers: list[tuple[str, int]] = []  # (job id, the server's status code)

    def expect(self, job_id: str, url: str) -> None:
        """Deliver to `url` once the job ends."""
        with self._lock:
            self._waiting[job_id] = url
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()

    def url_of(self, job_id: str) -> str:
        """Where the job's webhook goes, while it has not gone."""
        with self._lock:
            return self._waiting[job_id]

    def inject(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def release(self) -> None:
        """Send every held delivery now."""
        with self._lock:
            held, self.held = self.held, []
        for delivery in held:
            self.send("held", delivery)

    def send(self, job_id: str, delivery: Delivery) -> int:
        """Deliver as the host does; the server's answer is kept (0: no answer)."""
        try:
            status = self._http.post(delivery.url, content=delivery.body, headers=delivery.headers).status_code
        except httpx2.HTTPError:
            status = 0
        with self._lock:
            self.answers.append((job_id, status))
        return status

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http.close()

    def _run(self) -> None:
        with ThreadPoolExecutor(self.senders, thread_name_prefix="webhook") as pool:
            while not self._stop.wait(self.tick_seconds):
                with self._lock:
                    waiting = list(self._waiting.items())
                for job_id, url in waiting:
                    if (due := self._due(job_id, url)) is not None:
                        pool.submit(self._deliver, job_id, *due)  # one sender: in order, one at a time

    def _due(self, job_id: str, url: str) -> tuple[Delivery, Fault | None] | None:
        """The job's delivery and the fault it takes, once the job has ended."""
        with self._lock:
            fault = self._faults[0] if self._faults else None
        delivery = self._compose(job_id, url, fault == "forge")
        if delivery is None:
            return None
        with self._lock:
            if fault is not None:
                self._faults.popleft()
            if fault != "forge":  # a forged one goes first: the real one follows once the job ends
                self._waiting.pop(job_id, None)
            if fault == "hold":
                self.held.append(delivery)
        return delivery, fault

    def _deliver(self, job_id: str, delivery: Delivery, fault: Fault | None) -> None:
        if fault in ("drop", "hold"):
            return
        self.send(job_id, delivery)
        if fault == "repeat":
            self.send(job_id, delivery)
