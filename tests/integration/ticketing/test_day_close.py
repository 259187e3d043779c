"""Closing the business day against real PostgreSQL and Kafka.

Tickets are issued at 23:50 local time; the clock then passes local midnight
and housekeeping runs: waiting tickets of the day that ended are cancelled with
the reason ``day_closed``, tickets at a counter stay with their operator, each
cancellation reaches the topic once, and passes (also concurrent ones, as with
several replicas) never repeat a change.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.events import CloudEvent, EventType
from services.ticketing import db
from services.ticketing.app import init_app
from services.ticketing.housekeeping import Housekeeper, PassResult
from services.ticketing.keys import POOL
from tests.conftest import SchemaFactory, TopicFactory
from tests.integration.ticketing.conftest import (
    Clock,
    TicketingHallKit,
    hall_doc,
    new_branch_id,
    seed,
    settings_for,
)
from tests.integration.ticketing.kafka_read import read_events
from tests.prometheus.stack import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

WIT = ZoneInfo("Asia/Jayapura")
BEFORE_MIDNIGHT = datetime(2026, 11, 30, 23, 50, tzinfo=WIT)  # 14:50 UTC
AFTER_MIDNIGHT = datetime(2026, 12, 1, 0, 5, tzinfo=WIT)  # 15:05 UTC, the same UTC day


def pool_of(hall: TicketingHallKit) -> asyncpg.Pool:
    return hall.client.server.app[POOL]


def housekeeper(
    hall: TicketingHallKit, *, batch_size: int = 200, pool: asyncpg.Pool | None = None
) -> Housekeeper:
    return Housekeeper(pool or pool_of(hall), hall.clock, interval=60, batch_size=batch_size)


@pytest.fixture
async def relayed(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> AsyncIterator[tuple[TicketingHallKit, str]]:
    """A hall in Jayapura (WIT) at 23:50 whose relay publishes to a fresh topic; housekeeping off."""
    topic = await new_topic(partitions=1)
    schema = await new_schema()
    branch = new_branch_id()
    await seed(database_url, schema, hall_doc(branch, timezone="Asia/Jayapura"))
    clock = Clock(BEFORE_MIDNIGHT)
    settings = settings_for(
        database_url, schema, relay_enabled=True, kafka_bootstrap_servers=kafka_bootstrap, events_topic=topic
    )
    client: TestClient[Any, Any] = TestClient(TestServer(init_app(settings, clock=clock)))
    await client.start_server()
    try:
        yield TicketingHallKit(client, clock, branch, schema), topic
    finally:
        await client.close()


async def ticket(hall: TicketingHallKit, ticket_id: str) -> dict[str, Any]:
    resp = await hall.client.get(f"/api/v1/tickets/{ticket_id}")
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def issue(hall: TicketingHallKit, service: str = "ktp", **body: Any) -> dict[str, Any]:
    resp = await hall.issue(service, **body)
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


async def ok(resp: Any) -> dict[str, Any]:
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def outbox_count(database_url: str, hall: TicketingHallKit) -> int:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": hall.schema})
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()


def cancellations(events: list[CloudEvent]) -> Counter[str]:
    return Counter(e.subject for e in events if e.type is EventType.TICKET_CANCELLED)


async def test_midnight_closes_the_queue_and_leaves_counters_alone(
    relayed: tuple[TicketingHallKit, str], kafka_bootstrap: str, database_url: str
) -> None:
    hall, topic = relayed
    await ok(await hall.act(1, "open"))
    await ok(await hall.act(2, "open"))
    a1, a2, a3, a4, a5 = [await issue(hall) for _ in range(5)]
    c1 = await issue(hall, "pkb")
    assert (await ok(await hall.act(1, "call-next")))["id"] == a1["id"]
    assert (await ok(await hall.act(2, "call-next")))["id"] == a2["id"]
    await ok(await hall.act(2, "start"))
    await ok(await hall.client.post(f"/api/v1/tickets/{a5['id']}/cancel"))

    hall.clock.now = AFTER_MIDNIGHT
    today = await issue(hall)  # the first ticket of the new day
    assert (today["number"], today["business_date"]) == ("A001", "2026-12-01")

    # Three left over (A003, A004, C001), closed two per transaction.
    first = await housekeeper(hall, batch_size=2).run_once()
    assert first == PassResult(day_closed=3, keys_purged=0)
    for left in (a3, a4, c1):
        view = await ticket(hall, left["id"])
        assert (view["status"], view["cancel_reason"]) == ("cancelled", "day_closed")
        assert (view["position"], view["estimated_wait_seconds"]) == (0, 0)
        assert view["business_date"] == "2026-11-30"
    assert (await ticket(hall, a5["id"]))["cancel_reason"] == "citizen"
    assert (await ticket(hall, a1["id"]))["status"] == "called"
    assert (await ticket(hall, a2["id"]))["status"] == "serving"
    still = await ticket(hall, today["id"])
    assert (still["status"], still["cancel_reason"], still["position"]) == ("waiting", None, 1)

    # Nothing left to do: a second pass changes nothing and writes no event.
    written = await outbox_count(database_url, hall)
    assert await housekeeper(hall, batch_size=2).run_once() == PassResult(0, 0)
    assert await outbox_count(database_url, hall) == written

    # The operators finish yesterday's tickets after midnight as usual.
    await ok(await hall.act(2, "complete"))
    await ok(await hall.act(1, "start"))
    await ok(await hall.act(1, "complete"))
    assert (await ticket(hall, a1["id"]))["status"] == "completed"
    assert (await ok(await hall.act(1, "call-next")))["id"] == today["id"]  # never yesterday's

    expected = await outbox_count(database_url, hall)
    events = await read_events(kafka_bootstrap, topic, expected)
    assert len(events) == expected
    assert [e.sequence for e in events] == list(range(1, expected + 1))
    cancelled = {e.subject: e for e in events if e.type is EventType.TICKET_CANCELLED}
    assert cancellations(events) == Counter({a3["id"]: 1, a4["id"]: 1, c1["id"]: 1, a5["id"]: 1})
    for left in (a3, a4, c1):
        data = cancelled[left["id"]].to_dict()["data"]
        assert (data["reason"], data["status"], data["business_date"]) == (
            "day_closed",
            "cancelled",
            "2026-11-30",
        )
        assert cancelled[left["id"]].time == AFTER_MIDNIGHT
    assert cancelled[a5["id"]].to_dict()["data"]["reason"] == "citizen"


async def test_concurrent_passes_cancel_each_ticket_once(
    relayed: tuple[TicketingHallKit, str], kafka_bootstrap: str, database_url: str
) -> None:
    hall, topic = relayed
    issued = [await issue(hall, service) for service in ("ktp", "pkb") for _ in range(20)]
    hall.clock.now = AFTER_MIDNIGHT
    # Three replicas, each with its own pool, pass at the same moment in small batches.
    pools = [await db.create_pool(database_url, hall.schema, max_size=2) for _ in range(2)]
    try:
        keepers = [housekeeper(hall, batch_size=3)] + [housekeeper(hall, batch_size=3, pool=p) for p in pools]
        results = await asyncio.gather(*(k.run_once() for k in keepers))
    finally:
        for pool in pools:
            await pool.close()
    assert sum(r.day_closed for r in results) == len(issued)

    expected = await outbox_count(database_url, hall)
    assert expected == 2 * len(issued)  # issued + cancelled, nothing twice
    events = await read_events(kafka_bootstrap, topic, expected)
    assert cancellations(events) == Counter({t["id"]: 1 for t in issued})


async def test_the_app_closes_the_day_on_its_own(database_url: str, new_schema: SchemaFactory) -> None:
    schema = await new_schema()
    branch = new_branch_id()
    await seed(database_url, schema, hall_doc(branch, timezone="Asia/Jakarta"))
    clock = Clock(datetime(2026, 11, 30, 23, 59, tzinfo=ZoneInfo("Asia/Jakarta")))
    settings = settings_for(database_url, schema, housekeeping_enabled=True, housekeeping_interval_seconds=1)
    client: TestClient[Any, Any] = TestClient(TestServer(init_app(settings, clock=clock)))
    await client.start_server()
    try:
        hall = TicketingHallKit(client, clock, branch, schema)
        waiting = await issue(hall)
        await asyncio.sleep(1.5)  # passes ran before midnight: nothing to close
        assert (await ticket(hall, waiting["id"]))["status"] == "waiting"
        clock.advance(minutes=2)

        async def closed() -> bool:
            return (await ticket(hall, waiting["id"]))["status"] != "waiting"

        await eventually(closed, within=10, what="the loop closes the day")
        assert (await ticket(hall, waiting["id"]))["cancel_reason"] == "day_closed"
        exposition = await (await client.get("/metrics")).text()
        assert "qms_day_closed_tickets_total 1.0" in exposition
        assert "qms_housekeeping_errors_total 0.0" in exposition
    finally:
        await client.close()  # stops the loop; a hang here fails the test's timeout


async def test_old_idempotency_keys_are_purged(hall: TicketingHallKit) -> None:
    url = f"/api/v1/branches/{hall.branch}/tickets"
    body = {"service_id": hall.service("ktp")}

    async def tap(key: str) -> dict[str, Any]:
        resp = await hall.client.post(url, json=body, headers={"Idempotency-Key": key})
        assert resp.status == 201, await resp.text()
        return dict(await resp.json())

    old = await tap("kiosk-1-old")
    hall.clock.advance(days=1)
    young = await tap("kiosk-1-young")
    hall.clock.advance(days=1, seconds=1)  # the old key is now just over two days old
    result = await housekeeper(hall).run_once()
    assert result.keys_purged == 1
    assert (await tap("kiosk-1-young"))["id"] == young["id"]  # still protected against retries
    assert (await tap("kiosk-1-old"))["id"] != old["id"]  # forgotten: a new ticket
    assert (await housekeeper(hall).run_once()).keys_purged == 0
