"""The job card in a real browser: tests/browser/driver.mjs, spoken to a JSON line at a time.

The driver shows the card in headless Chromium inside a host page built on the official AppBridge, and
relays the card's calls to the real server over stdio. Every wait is the driver's, bounded and waiting
for a condition in the page, never for a length of time.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

DRIVER = Path(__file__).parent / "browser" / "driver.mjs"


def video_state(prefix: str = "") -> str:
    """A condition for `wait`: the card's video can play (readyState >= 1) from a source starting with `prefix`,
    or failed from such a source. An error from another source is not the answer: the card may be on its way
    from a link the sandbox refused to the copy it plays instead."""
    return f"""(() => {{
        const v = document.getElementById("video");
        if (!v.currentSrc.startsWith({json.dumps(prefix)})) return null;
        if (v.error) return {{ error: v.error.message || String(v.error.code) }};
        if (v.readyState < 1) return null;
        return {{ duration: v.duration, width: v.videoWidth, height: v.videoHeight, src: v.currentSrc.slice(0, 200),
                  at: Date.now() }};
    }})()"""


def text(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)}).textContent"


class CardHost:
    def __init__(self, command: str, env: dict[str, str], chromium: str, log: Path, url: str | None = None) -> None:
        """The card shown by a host whose client starts `command` over stdio, or, given `url`, speaks to a
        server already listening there over streamable HTTP."""
        self.log = log
        where = {"url": url} if url else {"command": command, "env": env}
        config = {**where, "chromium": chromium, "stderr": str(log)}
        with log.open("a") as stderr:
            self._process = subprocess.Popen(
                ["node", str(DRIVER), json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )

    def send(self, op: str, **arguments: Any) -> Any:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the card driver stopped; its log:\n{self.log.read_text()[-4000:]}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError(f"{op} failed in the card driver: {answer['error']}")
        return answer["value"]

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A tool call as the model makes it."""
        result: dict[str, Any] = self.send("call", tool=tool, arguments=arguments)
        return result

    def open(self, tool: str, arguments: dict[str, Any], result: dict[str, Any], **options: Any) -> dict[str, Any]:
        opened: dict[str, Any] = self.send("open", tool=tool, arguments=arguments, result=result, **options)
        return opened

    def wait(self, js: str, timeout: float = 60, polling: int | str = 50) -> Any:
        """The expression's value once it is truthy in the card; `polling` "raf" checks it every frame."""
        return self.send("wait", js=js, timeout=int(timeout * 1000), polling=polling)

    def eval(self, js: str) -> Any:
        return self.send("eval", js=js)

    def click(self, selector: str) -> None:
        self.send("click", selector=selector)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        every: list[dict[str, Any]] = self.send("events")
        return [event for event in every if kind is None or event["kind"] == kind]

    def wait_event(self, kind: str, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.send("wait-event", kind=kind, count=count, timeout=int(timeout * 1000))
        return found

    def close(self) -> None:
        try:
            if self._process.poll() is None:
                self.send("quit")
        finally:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.close()
            self._process.stdout.close()
            self._process.wait(timeout=30)
