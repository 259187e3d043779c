"""The real broker dies mid-day (kill -9) under a running ticketing service, then comes back.

Issuing and calling go on while it is away; once it is back the same relay,
never restarted, publishes the backlog: every event reaches Kafka, and a
consumer that drops a sequence it has already seen (as display and metrics
do) reads each one once, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer

from services.events import CloudEvent, decode
from services.ticketing.app import init_app
from tests.conftest import SchemaFactory
from tests.integration.private_kafka import PrivateKafka
from tests.integration.ticketing.conftest import (
    admin_auth,
    hall_doc,
    issue_and_serve_half,
    new_branch_id,
    seed,
    settings_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TOPIC = "queue.events"  # the private broker's own, created by stack.sh


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[PrivateKafka]:
    kafka = PrivateKafka(tmp_path / "run")
    try:
        await kafka.start()
        yield kafka
    finally:
        await kafka.stop()


async def _read_all_sequences(bootstrap: str, branch: str, total: int, within: float) -> list[CloudEvent]:
    """Every record of ``branch`` on the topic, in partition order, until sequences 1..total are all there."""
    consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[CloudEvent] = []
    try:
        async with asyncio.timeout(within):
            while {e.sequence for e in got} != set(range(1, total + 1)):
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    got.extend(e for e in (decode(r.value) for r in records) if e.branchid == branch)
        extra = await consumer.getmany(timeout_ms=1000)  # anything beyond is a bug too
        got.extend(e for records in extra.values() for e in (decode(r.value) for r in records))
    finally:
        await consumer.stop()
    return got


async def _kafka_status(client: TestClient[Any, Any]) -> str:
    ready = await client.get("/readyz")
    assert ready.status == 200  # ticketing stays ready: it keeps every event in PostgreSQL
    return str((await ready.json())["checks"]["kafka"])


async def test_broker_killed_and_restarted_under_a_running_service(
    broker: PrivateKafka, database_url: str, new_schema: SchemaFactory
) -> None:
    schema = await new_schema()
    branch = new_branch_id()
    await seed(database_url, schema, hall_doc(branch))
    settings = settings_for(
        database_url, schema, relay_enabled=True, kafka_bootstrap_servers=broker.bootstrap, events_topic=TOPIC
    )
    client: TestClient[Any, Any] = TestClient(TestServer(init_app(settings)))
    await client.start_server()
    try:
        auth = await admin_auth(client)
        assert (await client.post(f"/api/v1/counters/{branch}-loket-1/open", headers=auth)).status == 200

        # Morning, broker up: 1 opened + 10 issued + 3 × 5 served.
        await issue_and_serve_half(client, branch, auth, 10)
        morning = await _read_all_sequences(broker.bootstrap, branch, 26, within=60)
        assert [e.sequence for e in morning] == list(range(1, 27))

        # The broker's process dies. Citizens and counters do not notice.
        await broker.kill()
        await issue_and_serve_half(client, branch, auth, 20)
        async with asyncio.timeout(60):
            while await _kafka_status(client) != "down":  # noqa: ASYNC110 - the relay's state
                await asyncio.sleep(0.5)
        conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
        try:
            waiting = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        finally:
            await conn.close()
        assert waiting == 20 + 3 * 10  # kept, in PostgreSQL, until Kafka acknowledges them

        # The broker comes back (same data); the running relay catches up on its own.
        await broker.start()
        total = 26 + 20 + 3 * 10
        records = await _read_all_sequences(broker.bootstrap, branch, total, within=120)
        async with asyncio.timeout(30):
            while await _kafka_status(client) != "up":  # noqa: ASYNC110 - the relay's state
                await asyncio.sleep(0.5)
    finally:
        await client.close()

    # Every event is on the topic; a retry after the crash may have written some twice,
    # always the very same event under the same sequence.
    by_sequence: dict[int, CloudEvent] = {}
    for event in records:
        assert by_sequence.setdefault(event.sequence, event) == event
    assert sorted(by_sequence) == list(range(1, total + 1))
    assert len({e.id for e in by_sequence.values()}) == total
    # What a consumer applies, dropping what it has seen: each event once, in order.
    applied: list[CloudEvent] = []
    for event in records:
        if not applied or event.sequence > applied[-1].sequence:
            applied.append(event)
    assert [e.sequence for e in applied] == list(range(1, total + 1))
    issued = [e.to_dict()["data"]["number"] for e in applied if e.type.value == "ticket.issued"]
    assert issued == [f"A{n:03d}" for n in range(1, 31)]
