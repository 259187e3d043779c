"""Fixtures of the display's integration tests: a producer, a feed, and displays on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.display.board import Clock
from services.display.server import Running
from tests.integration.display.hallkit import HallFeed, display_settings, kafka_producer, start_display

DisplayFactory = Callable[..., Awaitable[Running]]


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    async with kafka_producer(kafka_bootstrap) as p:
        yield p


@pytest.fixture
async def topics(new_topic: Callable[..., Awaitable[str]]) -> tuple[str, str]:
    """A fresh events topic (3 partitions) and a fresh DLQ topic."""
    return await new_topic(partitions=3), await new_topic(partitions=1, prefix="test.dlq.")


@pytest.fixture
def feed(producer: AIOKafkaProducer, topics: tuple[str, str]) -> HallFeed:
    return HallFeed(producer, topics[0])


@pytest.fixture
async def display(
    kafka_bootstrap: str, topics: tuple[str, str], tmp_path: Path
) -> AsyncIterator[DisplayFactory]:
    """Start displays on the test topics; every one is closed afterwards."""
    started: list[Running] = []

    async def make(clock: Clock | None = None, **overrides: Any) -> Running:
        settings = display_settings(kafka_bootstrap, topics[0], topics[1], tmp_path / "audio", **overrides)
        running = await start_display(settings, clock=clock)
        started.append(running)
        return running

    try:
        yield make
    finally:
        for running in started:
            await running.close()
