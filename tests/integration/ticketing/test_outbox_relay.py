"""The outbox relay against the real PostgreSQL and Kafka broker."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import asyncpg
import pytest

from services.events import CloudEvent, CounterOpened, CounterPaused, new_event
from services.ticketing.migrate import migrate
from services.ticketing.outbox import OutboxRelay, enqueue
from tests.conftest import SchemaFactory, TopicFactory, unique_name
from tests.integration.ticketing.kafka_read import read_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def _event(branch: str, n: int) -> CloudEvent:
    kind = CounterOpened if n % 2 else CounterPaused
    data = kind(
        counter_id=f"{branch}-loket-{n}",
        counter_name=f"Loket {n}",
        branch_id=branch,
        timezone="Asia/Makassar",
        business_date=datetime.now(UTC).date(),
        service_ids=("ktp",),
        status="open" if n % 2 else "paused",
    )
    return new_event(data, source="/ticketing", subject=f"{branch}-loket-{n}", time=datetime.now(UTC))


async def _write(dsn: str, schema: str, events: list[CloudEvent]) -> None:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        for event in events:
            async with conn.transaction():
                await enqueue(conn, event)
    finally:
        await conn.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepared(dsn: str, new_schema: SchemaFactory) -> str:
    schema = await new_schema()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, schema)
    finally:
        await conn.close()
    return schema


async def test_relay_publishes_each_event_once_in_branch_order(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    topic = await new_topic(partitions=3)
    schema = await _prepared(database_url, new_schema)
    branches = [unique_name("b"), unique_name("b")]
    events = [_event(branches[i % 2], i) for i in range(60)]
    relay = OutboxRelay(dsn=database_url, schema=schema, bootstrap_servers=kafka_bootstrap, topic=topic)
    await relay.start()
    try:
        await _write(database_url, schema, events)
        got = await read_events(kafka_bootstrap, topic, len(events))
    finally:
        await relay.stop()

    assert sorted(e.id for e in got) == sorted(e.id for e in events)
    for branch in branches:
        mine = [e for e in got if e.branchid == branch]
        assert [e.sequence for e in mine] == list(range(1, 31))
        written = [e.id for e in events if e.branchid == branch]
        assert [e.id for e in mine] == written


async def test_events_written_while_kafka_is_down_arrive_in_order_once(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    topic = await new_topic(partitions=1)
    schema = await _prepared(database_url, new_schema)
    branch = unique_name("b")
    down = OutboxRelay(
        dsn=database_url,
        schema=schema,
        bootstrap_servers=f"127.0.0.1:{_closed_port()}",
        topic=topic,
        request_timeout_ms=2000,
    )
    await down.start()
    events = [_event(branch, i) for i in range(25)]
    try:
        await _write(database_url, schema, events)  # accepted although Kafka is unreachable
        await asyncio.sleep(1.5)
        assert not down.kafka_connected
    finally:
        await down.stop()

    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 25
    finally:
        await conn.close()

    # Two relays at once, as with several ticketing replicas: order must hold.
    relays = [
        OutboxRelay(dsn=database_url, schema=schema, bootstrap_servers=kafka_bootstrap, topic=topic)
        for _ in range(2)
    ]
    for relay in relays:
        await relay.start()
    try:
        await _write(database_url, schema, [_event(branch, 100 + i) for i in range(25)])
        got = await read_events(kafka_bootstrap, topic, 50)
    finally:
        for relay in relays:
            await relay.stop()
    assert len(got) == 50
    assert [e.sequence for e in got] == list(range(1, 51))
    assert [e.subject for e in got[:25]] == [e.subject for e in events]


async def test_enqueue_outside_a_transaction_is_refused(database_url: str, new_schema: SchemaFactory) -> None:
    schema = await _prepared(database_url, new_schema)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await enqueue(conn, _event("b1", 1))
    finally:
        await conn.close()


async def test_migrations_are_idempotent(database_url: str, new_schema: SchemaFactory) -> None:
    schema = await new_schema()
    conn = await asyncpg.connect(database_url)
    try:
        first = await migrate(conn, schema)
        again = await migrate(conn, schema)
    finally:
        await conn.close()
    assert first[0] == "001"
    assert again == []


async def _connected(relay: OutboxRelay) -> None:
    """Wait until the relay holds a producer, then past its first pass."""
    async with asyncio.timeout(30):
        while not relay.kafka_connected:  # noqa: ASYNC110 - the relay's own task connects
            await asyncio.sleep(0.1)
    await asyncio.sleep(1)


async def _five_events_through(
    relay: OutboxRelay, bootstrap: str, topic: str, database_url: str, schema: str
) -> None:
    """Start ``relay``, let it settle, write five events and read them back in order within 20 s."""
    await relay.start()
    try:
        await _connected(relay)
        branch = unique_name("b")
        await _write(database_url, schema, [_event(branch, i) for i in range(5)])
        got = await read_events(bootstrap, topic, 5, within=20)
    finally:
        await relay.stop()
    assert [e.sequence for e in got] == [1, 2, 3, 4, 5]


async def test_a_notification_wakes_the_relay_long_before_its_next_poll(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    topic = await new_topic(partitions=1)
    schema = await _prepared(database_url, new_schema)
    relay = OutboxRelay(  # the next poll is 10 minutes away: only the NOTIFY can wake it
        dsn=database_url, schema=schema, bootstrap_servers=kafka_bootstrap, topic=topic, poll_interval=600
    )
    await _five_events_through(relay, kafka_bootstrap, topic, database_url, schema)


async def test_polling_delivers_when_notifications_are_lost(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    topic = await new_topic(partitions=1)
    schema = await _prepared(database_url, new_schema)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        await conn.execute("ALTER TABLE outbox DISABLE TRIGGER outbox_notify")  # no NOTIFY at all
    finally:
        await conn.close()
    relay = OutboxRelay(
        dsn=database_url, schema=schema, bootstrap_servers=kafka_bootstrap, topic=topic, poll_interval=0.5
    )
    await _five_events_through(relay, kafka_bootstrap, topic, database_url, schema)


async def test_the_listen_connection_comes_back_after_the_database_drops_it(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    topic = await new_topic(partitions=1)
    schema = await _prepared(database_url, new_schema)
    branch = unique_name("b")
    relay = OutboxRelay(
        dsn=database_url, schema=schema, bootstrap_servers=kafka_bootstrap, topic=topic, poll_interval=600
    )
    listeners = (
        "SELECT pid FROM pg_stat_activity"
        " WHERE application_name = 'antrian-outbox-listener' AND backend_start > $1"
    )
    admin = await asyncpg.connect(database_url)
    try:
        since = await admin.fetchval("SELECT now()")
        await relay.start()
        await _connected(relay)
        [first] = [r["pid"] for r in await admin.fetch(listeners, since)]
        # What a PostgreSQL restart or a proxy's idle timeout does to the connection.
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        async with asyncio.timeout(20):
            while [r["pid"] for r in await admin.fetch(listeners, since)] in ([], [first]):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        await _write(database_url, schema, [_event(branch, i) for i in range(3)])
        got = await read_events(kafka_bootstrap, topic, 3, within=20)  # woken again, not by the poll
    finally:
        await relay.stop()
        await admin.close()
    assert [e.sequence for e in got] == [1, 2, 3]


async def test_two_relays_never_send_a_row_twice_however_slow_the_commit(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    """A branch's lock is let go only after its rows are committed as published.

    A trigger makes each marking statement slow (as a loaded server's commit
    is): were the lock released inside that statement, the other relay would
    take it before the commit, still see the rows unpublished and send them
    again (seen as 87 records for 50 events on a busy CI machine).
    """
    topic = await new_topic(partitions=1)
    schema = await _prepared(database_url, new_schema)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        await conn.execute(
            """
            CREATE FUNCTION slow_marking() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$;
            CREATE TRIGGER slow_marking AFTER UPDATE OF published_at ON outbox
              FOR EACH STATEMENT EXECUTE FUNCTION slow_marking();
            """
        )
    finally:
        await conn.close()
    branch = unique_name("b")
    relays = [
        OutboxRelay(
            dsn=database_url,
            schema=schema,
            bootstrap_servers=kafka_bootstrap,
            topic=topic,
            poll_interval=0.05,
        )
        for _ in range(2)
    ]
    for relay in relays:
        await relay.start()
    try:
        for round_ in range(8):
            await _write(database_url, schema, [_event(branch, 10 * round_ + i) for i in range(4)])
            await asyncio.sleep(0.2)
        got = await read_events(kafka_bootstrap, topic, 32)
    finally:
        for relay in relays:
            await relay.stop()
    assert [e.sequence for e in got] == list(range(1, 33)), "a row was sent twice or out of order"
