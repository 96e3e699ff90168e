"""A real S3 API on loopback: moto's standalone server, started once per test process as PostgreSQL is.

Each test takes a bucket of its own. The tests read the bucket with boto3 (which moto brings), not through
the server's client, so what they see is what the store holds.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_SECONDS = 60.0
LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")
ACCESS = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_REGION": "us-east-1"}


@dataclass
class Bucket:
    endpoint: str
    name: str

    @property
    def env(self) -> dict[str, str]:
        """What a server needs to store its copies here, under the prefix `team`."""
        return {"SEEDANCE_STORAGE_URL": f"s3://{self.name}/team", "AWS_ENDPOINT_URL": self.endpoint, **ACCESS}

    def client(self) -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=ACCESS["AWS_REGION"],
            aws_access_key_id=ACCESS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=ACCESS["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self) -> dict[str, int]:
        """Every object in the bucket, with its size."""
        listed = self.client().list_objects_v2(Bucket=self.name)
        return {item["Key"]: int(item["Size"]) for item in listed.get("Contents", [])}

    def read(self, key: str) -> bytes:
        data: bytes = self.client().get_object(Bucket=self.name, Key=key)["Body"].read()
        return data


class S3Server:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="seedance-s3-"))
        self.endpoint = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    def start(self) -> None:
        moto = Path(sys.executable).with_name("moto_server")
        log = self.folder / "moto.log"
        with log.open("w") as out:
            self._process = subprocess.Popen(
                [str(moto if moto.exists() else shutil.which("moto_server")), "-H", "127.0.0.1", "-p", "0"],
                stdout=out,
                stderr=out,
                env={"PATH": os.environ.get("PATH", ""), **ACCESS},
            )
        deadline = time.monotonic() + START_SECONDS
        while not (found := LISTENING.search(log.read_text())):
            assert self._process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"moto did not start:\n{log.read_text()}"
            time.sleep(0.05)
        self.endpoint = f"http://127.0.0.1:{found[1]}"

    def fresh_bucket(self) -> Bucket:
        bucket = Bucket(self.endpoint, f"videos-{os.getpid()}-{next(self._names)}")
        bucket.client().create_bucket(Bucket=bucket.name)
        return bucket

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=20)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    try:
        server.start()
        yield server
    finally:
        server.stop()
