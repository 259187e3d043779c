"""Kafka goes away mid-day: issuing and calling go on, and every event arrives later, once, in order."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.events import CloudEvent
from services.ticketing.app import init_app
from services.ticketing.outbox import OutboxRelay
from tests.conftest import SchemaFactory, TopicFactory
from tests.integration.ticketing.conftest import (
    admin_auth,
    hall_doc,
    issue_and_serve_half,
    new_branch_id,
    seed,
    settings_for,
)
from tests.integration.ticketing.kafka_read import read_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_phase(
    settings: Any, branch: str, tickets: int, before_close: Callable[[], Awaitable[Any]] | None = None
) -> dict[str, Any]:
    """Issue ``tickets`` and call/complete half of them through a fresh app; return /readyz."""
    client: TestClient[Any, Any] = TestClient(TestServer(init_app(settings)))
    await client.start_server()
    try:
        auth = await admin_auth(client)
        counter = f"/api/v1/counters/{branch}-loket-1"
        if (await (await client.get(counter)).json())["status"] != "open":
            assert (await client.post(f"{counter}/open", headers=auth)).status == 200
        await issue_and_serve_half(client, branch, auth, tickets)
        ready = await client.get("/readyz")
        assert ready.status == 200
        if before_close is not None:
            await before_close()
        return dict(await ready.json())
    finally:
        await client.close()


async def test_broker_down_mid_day(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    topic = await new_topic(partitions=1)
    schema = await new_schema()
    branch = new_branch_id()
    up = settings_for(
        database_url, schema, relay_enabled=True, kafka_bootstrap_servers=kafka_bootstrap, events_topic=topic
    )
    down = settings_for(
        database_url,
        schema,
        relay_enabled=True,
        kafka_bootstrap_servers=f"127.0.0.1:{closed_port()}",
        events_topic=topic,
    )

    # Morning: Kafka is up.
    await seed(database_url, schema, hall_doc(branch))
    morning = 1 + 20 + 3 * 10  # opened, issued, called/serving/completed for half
    before: list[CloudEvent] = []

    async def read_morning() -> None:
        before.extend(await read_events(kafka_bootstrap, topic, morning))

    first = await run_phase(up, branch, 20, read_morning)
    assert first["checks"]["kafka"] in ("up", "down")  # the producer may still be connecting
    assert [e.sequence for e in before] == list(range(1, morning + 1))

    # Midday: the broker is unreachable; ticketing keeps accepting and stays ready
    # (a request waiting on the broker would hang the phase past the ceiling).
    async with asyncio.timeout(90):
        midday = await run_phase(down, branch, 30)
    assert midday["checks"]["kafka"] == "down"

    # Afternoon: the broker is back; the backlog goes out in order, once.
    relay = OutboxRelay(dsn=database_url, schema=schema, bootstrap_servers=kafka_bootstrap, topic=topic)
    await relay.start()
    try:
        total = morning + 30 + 3 * 15
        events = await read_events(kafka_bootstrap, topic, total)
    finally:
        await relay.stop()
    assert len(events) == total
    assert len({e.id for e in events}) == total
    assert [e.sequence for e in events] == list(range(1, total + 1))
    numbers = [e.to_dict()["data"]["number"] for e in events if e.type.value == "ticket.issued"]
    assert numbers == [f"A{n:03d}" for n in range(1, 51)]
