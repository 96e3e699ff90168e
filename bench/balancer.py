"""A load balancer in front of the replicas, for what the hosts send: `SEEDANCE_PUBLIC_URL` names it, as it
names a team's balancer, so a webhook reaches whichever replica is alive.

Each request goes to the next replica in turn; one that refuses the connection (killed, or not yet
started again) is skipped, and one that goes away during a request gets that request a 502, which the
host may deliver again. The `Host` header is passed on as the host sent it, so each replica checks it
against the public URL, as behind a real balancer.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.threaded import serve_in_thread

FORWARD_SECONDS = 15.0  # as long as fal waits for an answer


class Balancer:
    def __init__(self, upstreams: Callable[[], list[str]]) -> None:
        """`upstreams` gives the replicas' base URLs as they are now (a replica restarts on another port)."""
        self._upstreams = upstreams
        self._turn = itertools.count()
        self._http = httpx2.AsyncClient(timeout=FORWARD_SECONDS)
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST"])])
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server, self._thread = serve_in_thread(app, sock)

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        upstreams = self._upstreams()
        first = next(self._turn)
        for offset in range(len(upstreams)):
            base = upstreams[(first + offset) % len(upstreams)]
            try:
                answer = await self._http.request(
                    request.method,
                    f"{base}{request.url.path}",
                    params=request.query_params,
                    content=body,
                    headers=[(k, v) for k, v in request.headers.items() if k.lower() != "content-length"],
                )
            except httpx2.ConnectError:
                continue  # nobody listens there: the next replica
            except httpx2.HTTPError:  # it went away during the request, which it may have taken: as a balancer does
                return Response("the replica went away", 502)
            return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))
        return Response("no replica is up", 503)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
