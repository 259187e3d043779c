"""Issue 11 #6: a display started before ticketing never shows a made-up hall, and gets ready once known."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.faults.display_kit import Ticketing, display_process, free_port, wait_until
from tests.integration.display.hallkit import HallFeed, kafka_producer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TopicFactory = Callable[..., Awaitable[str]]


async def test_a_display_started_before_ticketing_shows_the_right_hall_once_ticketing_answers(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    topic, dlq = await _topics(new_topic)
    async with kafka_producer(kafka_bootstrap) as producer:
        feed = HallFeed(producer, topic)
        await feed.busy_morning()  # counters 1-3 open; ticketing lists a fourth, and the hall is in WIB
    ticketing_port = free_port()
    ticketing = Ticketing({feed.branch: _branch(feed.branch)})
    env = {
        "DISPLAY_TICKETING_URL": f"http://127.0.0.1:{ticketing_port}",
        "DISPLAY_DEFAULT_TIMEZONE": "Asia/Makassar",
    }
    async with display_process(kafka_bootstrap, topic, dlq, tmp_path, ready=False, **env) as display:

        async def only_the_directory_is_missing() -> bool:
            status, body = await display.get("/readyz")
            return status == 503 and body["down"] == ["directory"]

        await wait_until(only_the_directory_is_missing, within=60)  # rebuilt, but the hall is not known
        status, snap = await display.get(f"/api/v1/branches/{feed.branch}/screen")
        assert status == 200
        assert snap["hall"]["name"] is None  # never the branch id passed off as a name
        screen = await connect(display.ws(f"/ws/{feed.branch}"), proxy=None)
        assert json.loads(await screen.recv())["hall"]["known"] is False

        await ticketing.start(ticketing_port)  # ticketing comes up late
        try:
            await wait_until(lambda: _ready(display), within=90)  # retried with back-off, not in 300 s
            status, snap = await display.get(f"/api/v1/branches/{feed.branch}/screen")
            _assert_right_hall(snap)
            async with asyncio.timeout(30):  # the open screen gets the right hall too
                while True:
                    message = json.loads(await screen.recv())
                    if message["type"] == "snapshot" and message["hall"]["known"]:
                        break
            _assert_right_hall(message)
            await screen.close()
        finally:
            await ticketing.stop()


async def _topics(new_topic: TopicFactory) -> tuple[str, str]:
    return await new_topic(partitions=1), await new_topic(partitions=1, prefix="test.dlq.")


async def _ready(display: Any) -> bool:
    status, _ = await display.get("/readyz")
    return bool(status == 200)


def _branch(branch_id: str) -> dict[str, Any]:
    return {
        "id": branch_id,
        "name": "MPP Jakarta Selatan",
        "timezone": "Asia/Jakarta",
        "agencies": [],
        "services": [],
        "counters": [{"id": f"c{n}", "name": f"Loket {n}", "zone": "lantai-1"} for n in (1, 2, 3, 4)],
    }


def _assert_right_hall(snap: dict[str, Any]) -> None:
    assert snap["hall"] == {"name": "MPP Jakarta Selatan", "timezone": "Asia/Jakarta", "known": True}
    assert [c["name"] for c in snap["counters"]] == ["Loket 1", "Loket 2", "Loket 3", "Loket 4"]
    assert snap["waiting"]["total"] == 5  # A003-A007 (the rest were called)
