"""Issue 11 #1: poison records of any size or content reach the DLQ once per consumer, and consuming goes on.

A 1,048,480-byte record (the size that took the display down) and a record
of random bytes are produced onto a test topic while a display and a metrics
service consume it. Each stays ready, each record is in the DLQ exactly once
per consumer, valid events after them are still applied, and a display that
rebuilds the day afterwards does not send the earlier poison again.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiokafka import AIOKafkaProducer

from services.display.app import init_app as display_app
from services.display.server import Running, start
from services.events import EventType
from tests.conftest import SchemaFactory, TopicFactory
from tests.faults.conftest import dead_letters, start_metrics, wait_until
from tests.integration.display.hallkit import HallFeed, display_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

HUGE = 1_048_480  # the size from the issue: the broker takes it, a naive re-send with headers does not


@pytest.fixture
async def big_producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A producer allowed to send records up to the broker's own limit."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=2_000_000)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def _status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        return response.status


async def test_huge_and_random_records_are_dead_lettered_once_and_consuming_goes_on(
    new_topic: TopicFactory,
    new_schema: SchemaFactory,
    kafka_bootstrap: str,
    database_url: str,
    big_producer: AIOKafkaProducer,
    tmp_path: Path,
) -> None:
    topic = await new_topic(partitions=1)
    dlq = await new_topic(partitions=1, prefix="test.dlq.")
    feed = HallFeed(big_producer, topic)
    settings = display_settings(kafka_bootstrap, topic, dlq, tmp_path)
    display: Running = await start(display_app(settings), "127.0.0.1", 0)
    metrics = await start_metrics(kafka_bootstrap, database_url, topic, dlq, await new_schema())
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
    display_ready = f"http://127.0.0.1:{display.port}/readyz"
    try:
        await wait_until(lambda: _ready(session, display_ready))
        await feed.counter(EventType.COUNTER_OPENED, 1)
        await feed.raw(b"x" * HUGE)
        await feed.raw(os.urandom(4096))
        await feed.counter(EventType.COUNTER_OPENED, 2)

        async def both_dead_lettered() -> bool:
            letters = await dead_letters(kafka_bootstrap, dlq)
            return len(letters) >= 4

        await wait_until(both_dead_lettered, within=120)
        await wait_until(lambda: _metrics_ready(metrics))
        # no ticketing runs here, so only the hall's directory may be missing: the consumer is fine
        assert await _down(session, display_ready) in ([], ["directory"])

        # A second display rebuilds the day over the same poison: nothing is sent again.
        again: Running = await start(display_app(settings), "127.0.0.1", 0)
        try:
            again_ready = f"http://127.0.0.1:{again.port}/readyz"
            await wait_until(lambda: _consuming(session, again_ready))
        finally:
            await again.close()
        letters = await dead_letters(kafka_bootstrap, dlq)
    finally:
        await session.close()
        await metrics.close()
        await display.close()

    by_consumer = sorted((d["consumer"], d["source"]) for d in letters)
    assert by_consumer == sorted(
        (consumer, f"{topic}/0/{offset}") for consumer in ("display", "metrics") for offset in (1, 2)
    )
    huge = [d for d in letters if d["source"] == f"{topic}/0/1"]
    assert all(d["headers"]["dlq-truncated"] == "true" and d["bytes"] <= 1024 for d in huge)
    assert all(d["headers"]["dlq-original-bytes"] == str(HUGE) for d in huge)
    assert {d["headers"]["dlq-reason"] for d in letters} == {"malformed"}
    assert all(d["headers"]["dlq-detail"] for d in letters)


async def _ready(session: aiohttp.ClientSession, url: str) -> bool:
    return await _status(session, url) == 200


async def _down(session: aiohttp.ClientSession, url: str) -> list[str]:
    async with session.get(url) as response:
        body = await response.json(content_type=None)
        return [] if response.status == 200 else list(body.get("down", ["?"]))


async def _consuming(session: aiohttp.ClientSession, url: str) -> bool:
    return await _down(session, url) in ([], ["directory"])


async def _metrics_ready(client: TestClient[Any, Any]) -> bool:
    response = await client.get("/readyz")
    return response.status == 200
