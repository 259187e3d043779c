"""Rebuild and replicas over real Kafka: restart, three instances, poison events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions

from services.display.app import BOARD
from services.events import DLQ_REASON_HEADER, EventType
from tests.integration.display.conftest import DisplayFactory
from tests.integration.display.hallkit import HallFeed, Screen, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def _snapshot(port: int, branch: str, seq: int) -> dict[str, Any]:
    """The snapshot once the instance has folded up to ``seq``."""
    async with asyncio.timeout(20):
        while True:
            screen = Screen(f"ws://127.0.0.1:{port}/ws/{branch}")
            snap = await screen.open()
            await screen.close()
            if snap["seq"] >= seq:
                return snap
            await asyncio.sleep(0.1)


async def test_after_a_restart_the_screen_is_exactly_the_same(
    feed: HallFeed, display: DisplayFactory
) -> None:
    await feed.busy_morning()
    first = await display()
    await feed.ticket(EventType.TICKET_CALLED, "A003", 1)
    await feed.counter(EventType.COUNTER_PAUSED, 2)
    before = await _snapshot(first.port, feed.branch, feed.seq)
    await first.close()
    second = await display()
    after = await _snapshot(second.port, feed.branch, feed.seq)
    assert after == before
    assert after["calls"][0]["number"] == "A003"


async def test_three_instances_show_the_same_state(feed: HallFeed, display: DisplayFactory) -> None:
    instances = [await display() for _ in range(3)]
    screens = [Screen(f"ws://127.0.0.1:{d.port}/ws/{feed.branch}") for d in instances]
    for screen in screens:
        await screen.open()
    await feed.busy_morning()
    await feed.ticket(EventType.TICKET_COMPLETED, "A001", 1)
    finals = await asyncio.gather(*(s.until(lambda m: m["seq"] == feed.seq) for s in screens))
    assert all(f["number"] == "A001" for f in finals)
    snaps = [await _snapshot(d.port, feed.branch, feed.seq) for d in instances]
    assert snaps[0] == snaps[1] == snaps[2]
    assert snaps[0]["counters_open"] == 3
    for screen in screens:
        await screen.close()


async def test_poison_events_go_to_the_dlq_and_the_stream_goes_on(
    feed: HallFeed, display: DisplayFactory, topics: tuple[str, str], kafka_bootstrap: str
) -> None:
    running = await display()
    screen = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
    await screen.open()
    await feed.raw(b"\x00not json at all")
    await feed.raw(json.dumps({"specversion": "1.0", "type": "ticket.teleported"}).encode())
    await feed.raw(
        json.dumps(
            {
                "specversion": "1.0",
                "id": "7b0c5b4e-6d1a-4b1e-9a55-0d7d3f1c2b3a",
                "source": "/ticketing",
                "type": "ticket.teleported",
                "time": "2026-11-28T01:00:00Z",
                "subject": "x",
                "branchid": feed.branch,
                "sequence": 99,
                "data": {},
            }
        ).encode()
    )
    seq = await feed.unshowable(EventType.TICKET_CALLED, "A001", counter_id=None)  # valid envelope, bad data
    seq = await feed.ticket(EventType.TICKET_CALLED, "A002", 1)
    delta = await screen.next()
    assert (delta["number"], delta["seq"]) == ("A002", seq)

    dlq = AIOKafkaConsumer(
        topics[1], bootstrap_servers=kafka_bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await dlq.start()
    try:
        reasons = []
        async with asyncio.timeout(20):
            while len(reasons) < 4:
                for records in (await dlq.getmany(timeout_ms=500)).values():
                    for r in records:
                        reasons.append(dict(r.headers)[DLQ_REASON_HEADER].decode())
                        assert r.key == feed.branch.encode()
    finally:
        await dlq.stop()
    assert reasons == ["malformed", "invalid_event", "unknown_type", "invalid_data"]
    hall = running.runner.app[BOARD]
    assert hall.screens[feed.branch].seq == seq
    await screen.close()


async def _dead_letters(bootstrap: str, topic: str, count: int) -> list[dict[str, bytes]]:
    """The headers of the first ``count`` records on the DLQ topic."""
    dlq = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await dlq.start()
    found: list[dict[str, bytes]] = []
    try:
        async with asyncio.timeout(20):
            while len(found) < count:
                for records in (await dlq.getmany(timeout_ms=500)).values():
                    found.extend(dict(r.headers) for r in records)
    finally:
        await dlq.stop()
    return found


async def test_an_unspeakable_call_is_dead_lettered_and_screens_go_on(
    feed: HallFeed, display: DisplayFactory, topics: tuple[str, str], kafka_bootstrap: str
) -> None:
    await feed.busy_morning()
    running = await display()
    screen = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
    await screen.open()
    poison = await feed.unshowable(EventType.TICKET_CALLED, "A003", counter_name="L" * 400)
    good = await feed.ticket(EventType.TICKET_CALLED, "A004", 2)
    delta = await screen.next()
    assert (delta["number"], delta["seq"], delta["counter_name"]) == ("A004", good, "Loket 2")
    assert delta["prev_seq"] == poison - 1  # the poison changed nothing a screen sees
    [headers] = await _dead_letters(kafka_bootstrap, topics[1], 1)
    assert headers[DLQ_REASON_HEADER] == b"invalid_data"
    assert b"counter_name" in headers["dlq-detail"]
    # Snapshots still work, for a screen that is already there and for a new one.
    fresh = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
    snap = await fresh.open()
    assert snap["seq"] == good
    assert [c["number"] for c in snap["calls"][:2]] == ["A004", "B001"]
    later = await feed.ticket(EventType.TICKET_SERVING, "A004", 2)
    assert (await screen.next())["seq"] == later
    await fresh.close()
    await screen.close()


async def test_partitions_added_while_running_are_read_from_the_days_start(
    feed: HallFeed, display: DisplayFactory, topics: tuple[str, str], kafka_bootstrap: str
) -> None:
    await feed.busy_morning()
    running = await display(partition_check_seconds=5)  # first look 5 s after the rebuild
    screen = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
    await screen.open()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        await admin.create_partitions({topics[0]: NewPartitions(total_count=5)})
    finally:
        await admin.close()
    # A producer that learns of the new partitions at once; straight away, before the display can
    # have looked again, an event goes to one: the display must still read it.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=0, metadata_max_age_ms=200)
    await producer.start()
    try:
        fresh = HallFeed(producer, topics[0], branch=feed.branch, seq=feed.seq, partition=4)
        await wait_for(lambda: _knows(producer, topics[0], 5), within=20)
        early = await fresh.ticket(EventType.TICKET_CALLED, "A003", 1)
        delta = await screen.until(lambda m: m["seq"] >= early, within=20)
        assert (delta["number"], delta["seq"]) == ("A003", early)
        fresh.partition = 3
        later = await fresh.ticket(EventType.TICKET_CALLED, "A004", 2)
        assert (await screen.next())["number"] == "A004"
    finally:
        await producer.stop()
    assert running.runner.app[BOARD].screens[feed.branch].seq == later
    await screen.close()


async def _knows(producer: AIOKafkaProducer, topic: str, partitions: int) -> bool:
    return len(await producer.partitions_for(topic)) >= partitions
