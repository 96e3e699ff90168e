"""The key never leaves: it is nowhere in anything the server emitted during the whole suite.

Every test runs with a canary key. Test clients record every result, error, progress message and
resource the server sent them, a root log handler records every log line at DEBUG, and every file the
suite wrote (ledgers and their WAL, previews, servers' stderr) is under pytest's base temp folder.
This test runs last in its process: it sends the key through every channel once more and searches what
that process saw. The whole suite's search, over every test process's records and files, runs when the
run ends (`pytest_sessionfinish` in conftest.py), fails the run if the key is found, and prints its count.
"""

from __future__ import annotations

import anyio
import pytest

from server.settings import Settings
from tests.canary import EMITTED, LogRecorder, key_leaks
from tests.conftest import connect, read_json
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio


@pytest.mark.last
async def test_the_key_is_in_nothing_the_server_emitted(
    settings: Settings, fake_fal: FakeFal, tmp_path_factory: pytest.TempPathFactory
):
    # One more pass through every channel, at DEBUG: success, failure, cancel, resources.
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    async with connect(settings) as client:
        with anyio.move_on_after(0.5):
            await client.call_tool("generate_text_video", {"prompt": "canary, cancelled"})
        fake_fal.plan = [Phase("IN_PROGRESS", 0.05, log="working")]
        done = await client.call_tool("generate_text_video", {"prompt": "canary, done"})
        fake_fal.outcome = "invalid"
        await client.call_tool("generate_text_video", {"prompt": "canary, rejected"})
        assert done.structured_content is not None
        await read_json(client, done.structured_content["job_uri"])
        await read_json(client, "seedance://jobs")

    assert len(EMITTED) > 10 and len(LogRecorder.lines) > 10
    base = tmp_path_factory.getbasetemp()
    assert any(path.suffix == ".sqlite3" for path in base.rglob("*"))
    assert key_leaks(EMITTED + LogRecorder.lines, base) == []
