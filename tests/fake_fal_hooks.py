"""fal's webhooks, as the fake fal sends them: signed with a key of the test's own (`signer`), whose JWKS it
serves at `jwks_url`, and delivered by `webhooks` (tests/fake_webhooks.py) once a job submitted with
`?fal_webhook=` ends."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fake_fal_jobs import FakeJob
from tests.fake_webhooks import Deliveries, Delivery
from tests.fal_signing import FalSigner


class FalWebhooks:
    lock: threading.Lock
    jobs: dict[str, FakeJob]
    url: str
    doors: dict[str, str]
    video: bytes
    drafts: dict[str, str]
    signer: FalSigner
    webhooks: Deliveries

    def _output(self, job: FakeJob) -> dict[str, Any]:
        """A finished job's result, as the result endpoint and the OK webhook give it."""
        url = f"{self.doors['cdn']}/files/{job.request_id}/output.mp4"
        video = {"url": url, "content_type": "video/mp4", "file_name": "output.mp4", "file_size": len(self.video)}
        answer: dict[str, Any] = {"video": video, "seed": job.input.get("seed", 1094575694)}
        if job.app == "bytedance/seedance-2.5":  # 2.5's output names the draft a draft=true job made (§1.4)
            answer["draft_id"] = f"draft-{job.request_id}" if job.input.get("draft") else None
            if answer["draft_id"]:
                with self.lock:
                    self.drafts[answer["draft_id"]] = job.request_id
        return answer

    def _delivery(self, rid: str, url: str, forged: bool) -> Delivery | None:
        """The webhook of a job that has ended, signed as fal signs it (by another key when `forged`)."""
        with self.lock:
            job = self.jobs[rid]
            job.tick(time.monotonic())
            if not (job.done or job.cancelled):
                return None
        body: dict[str, Any] = {"request_id": rid, "gateway_request_id": rid, "status": "OK"}
        if job.cancelled or job.outcome != "ok":
            body |= {"status": "ERROR", "error": "Invalid status code: 422", "payload": {"detail": []}}
        else:
            body["payload"] = self._output(job)
        content = json.dumps(body).encode()
        signer = FalSigner() if forged else self.signer
        return Delivery(url, content, {"content-type": "application/json", **signer.headers(content, rid, time.time())})

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.signer.jwk()]})

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"
