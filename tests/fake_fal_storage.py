"""The fake fal's storage: its REST host hands out a CDN token (fal-queue-protocol.md §11), the CDN takes
the upload and serves the file back, and it serves the files a test publishes. URLs name the door the
request came in by."""

from __future__ import annotations

import threading
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "cdn-token-1"


class FalStorage:
    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.uploads: list[tuple[str, str, bytes]] = []  # (file name, content type, bytes)
            self.assets: dict[str, bytes] = {}  # files a test publishes, such as input images

    def routes(self) -> list[Route]:
        return [
            Route("/storage/auth/token", self.token, methods=["POST"]),
            Route("/cdn/files/upload", self.upload, methods=["POST"]),
            Route("/cdn/files/{file_id}/{name}", self.file, methods=["GET"]),
            Route("/assets/{name}", self.asset, methods=["GET"]),
        ]

    async def token(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Key {self.key}":
            return JSONResponse({"detail": "Invalid key"}, status_code=401, headers={"x-fal-request-id": "none"})
        if request.query_params.get("storage_type") != "fal-cdn-v3":
            return JSONResponse({"detail": "unknown storage_type"}, status_code=401)
        expires = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
        base = f"{str(request.base_url).rstrip('/')}/cdn"
        return JSONResponse({"token": TOKEN, "token_type": "Bearer", "base_url": base, "expires_at": expires})

    async def upload(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"detail": "bad CDN token"}, status_code=401)
        name = request.headers.get("x-fal-file-name", "upload.bin")
        data = await request.body()
        if request.headers.get("content-length") not in (None, str(len(data))):
            return JSONResponse({"detail": "length mismatch"}, status_code=400)
        with self.lock:
            self.uploads.append((name, request.headers.get("content-type", ""), data))
            file_id = str(len(self.uploads))
        return JSONResponse({"access_url": f"{str(request.base_url).rstrip('/')}/cdn/files/{file_id}/{name}"})

    async def file(self, request: Request) -> Response:
        with self.lock:
            _, content_type, data = self.uploads[int(request.path_params["file_id"]) - 1]
        return Response(data, media_type=content_type)

    async def asset(self, request: Request) -> Response:
        """A file a test published, as a CDN serves it."""
        with self.lock:
            data = self.assets.get(request.path_params["name"])
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="application/octet-stream")
