"""Uploading a local file to fal's CDN, as fal's own client does (fal-queue-protocol.md §11).

A short-lived CDN token comes from the REST host (`POST /storage/auth/token?storage_type=fal-cdn-v3`);
the file's bytes, read once when the file was checked, are then sent to `{base_url}/files/upload`, and the
answer's `access_url` is what goes into the request. Files here are at most 50 MB, under fal's multipart
size.
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx2

from server.errors import ProviderError, ProviderUnavailable
from server.inputs import LocalFile
from server.providers.fal_errors import error_from_response
from server.providers.retry import send_with_retries
from server.settings import RetryPolicy

TOKEN_MARGIN_SECONDS = 60.0


class FalStorage:
    def __init__(
        self, http: httpx2.AsyncClient, headers: dict[str, str], rest_url: str, retry: RetryPolicy, timeout: float
    ) -> None:
        self._http = http
        self._headers = headers
        self._rest_url = rest_url.rstrip("/")
        self._retry = retry
        self._timeout = httpx2.Timeout(timeout, connect=min(timeout, 10.0))
        self._token: tuple[str, str, float] | None = None  # (authorization, base_url, expires)

    async def _cdn_token(self) -> tuple[str, str]:
        if self._token is not None and self._token[2] - TOKEN_MARGIN_SECONDS > time.time():
            return self._token[0], self._token[1]
        url = f"{self._rest_url}/storage/auth/token"
        try:
            response = await send_with_retries(
                lambda: self._http.post(
                    url, params={"storage_type": "fal-cdn-v3"}, json={}, headers=self._headers, timeout=self._timeout
                ),
                self._retry,
                host="fal",
                operation="upload_token",
            )
        except httpx2.TransportError as exc:
            raise ProviderUnavailable(
                f"Could not reach fal's storage at {self._rest_url} ({type(exc).__name__})."
            ) from exc
        if response.status_code >= 400:
            raise error_from_response(response, "upload token")
        try:
            data = response.json()
            authorization = f"{data['token_type']} {data['token']}"
            expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00")).timestamp()
            self._token = (authorization, str(data["base_url"]).rstrip("/"), expires)
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError("fal's storage answered without a usable upload token") from exc
        return self._token[0], self._token[1]

    async def upload(self, file: LocalFile) -> str:
        authorization, base_url = await self._cdn_token()
        headers = {
            "Authorization": authorization,
            "Content-Type": file.content_type,
            "Content-Length": str(file.size),
            "X-Fal-File-Name": file.name,
        }
        try:
            response = await send_with_retries(
                lambda: self._http.post(
                    f"{base_url}/files/upload", content=file.data, headers=headers, timeout=self._timeout
                ),
                self._retry,
                host="fal",
                operation="upload",
            )
        except httpx2.TransportError as exc:
            raise ProviderUnavailable(f"The upload of {file.name} to fal failed ({type(exc).__name__}).") from exc
        if response.status_code >= 400:
            raise error_from_response(response, "upload")
        try:
            return str(response.json()["access_url"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(f"fal's storage took {file.name} but gave back no URL") from exc
