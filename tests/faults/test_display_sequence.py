"""Issue 11 #5: one well-formed event with a far-ahead sequence neither freezes nor falsifies a screen."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.events import DLQ_REASON_HEADER, CloudEvent, EventType, encode, new_event, parse_data
from tests.faults.display_kit import DisplayProcess, Ticketing, display_process, free_port, wait_until
from tests.integration.display.hallkit import WITA, HallFeed, Screen, kafka_producer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TopicFactory = Callable[..., Awaitable[str]]
FORGED_SEQUENCE = 999_999_999


async def test_a_far_ahead_sequence_is_dead_lettered_once_and_later_calls_still_appear(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    topic, dlq = await new_topic(partitions=3), await new_topic(partitions=1, prefix="test.dlq.")
    port = free_port()
    async with kafka_producer(kafka_bootstrap) as producer:
        feed = HallFeed(producer, topic)
        ticketing = Ticketing({feed.branch: {"id": feed.branch, "name": "MPP", "timezone": "Asia/Makassar"}})
        await ticketing.start(port)
        try:
            url = f"http://127.0.0.1:{port}"
            async with display_process(
                kafka_bootstrap, topic, dlq, tmp_path, DISPLAY_TICKETING_URL=url
            ) as display:
                await _forge_then_call(feed, display, kafka_bootstrap, dlq)
        finally:
            await ticketing.stop()


async def _forge_then_call(feed: HallFeed, display: DisplayProcess, kafka_bootstrap: str, dlq: str) -> None:
    await feed.busy_morning()
    screen = Screen(display.ws(f"/ws/{feed.branch}"))
    await screen.open()
    await screen.caught_up(feed.seq)
    forged = _forged(feed)
    await feed.producer.send_and_wait(feed.topic, value=encode(forged), key=feed.branch.encode())
    for n in (3, 4, 5):  # real calls after the forged event
        seq = await feed.ticket(EventType.TICKET_CALLED, f"A00{n}", 1)
        await screen.caught_up(seq, within=30)

    await wait_until(lambda: _ready(display), within=60)  # any re-read of the branch is over
    status, snap = await display.get(f"/api/v1/branches/{feed.branch}/screen")
    assert status == 200
    assert snap["seq"] == feed.seq  # the forged sequence was never taken
    loket_1 = next(c for c in snap["counters"] if c["counter_id"] == "c1")
    assert (loket_1["status"], loket_1["number"]) == ("open", "A005")  # not paused
    assert [c["number"] for c in snap["calls"][:3]] == ["A005", "A004", "A003"]
    assert await _dead_lettered(kafka_bootstrap, dlq, forged.id) == [b"sequence_gap"]
    await screen.close()


async def test_a_far_ahead_sequence_as_the_days_first_event_does_not_hide_the_real_ones(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    topic, dlq = await new_topic(partitions=1), await new_topic(partitions=1, prefix="test.dlq.")
    port = free_port()
    async with kafka_producer(kafka_bootstrap) as producer:
        feed = HallFeed(producer, topic)
        forged = _forged(feed)
        await producer.send_and_wait(topic, value=encode(forged), key=feed.branch.encode())
        await feed.busy_morning()  # the real day, after the forged event in the log
        ticketing = Ticketing({feed.branch: {"id": feed.branch, "name": "MPP", "timezone": "Asia/Makassar"}})
        await ticketing.start(port)
        try:
            url = f"http://127.0.0.1:{port}"
            async with display_process(
                kafka_bootstrap, topic, dlq, tmp_path, DISPLAY_TICKETING_URL=url
            ) as display:
                await wait_until(lambda: _ready(display), within=60)
                seq = await feed.ticket(EventType.TICKET_CALLED, "A003", 1)
                screen = Screen(display.ws(f"/ws/{feed.branch}"))
                await screen.open()
                await screen.caught_up(seq, within=30)
                status, snap = await display.get(f"/api/v1/branches/{feed.branch}/screen")
                assert (status, snap["seq"]) == (200, seq)
                assert snap["calls"][0]["number"] == "A003"
                assert next(c for c in snap["counters"] if c["counter_id"] == "c1")["status"] == "open"
                assert await _dead_lettered(kafka_bootstrap, dlq, forged.id) == [b"sequence_gap"]
                await screen.close()
        finally:
            await ticketing.stop()


def _forged(feed: HallFeed) -> CloudEvent:
    """A well-formed "counter 1 paused" with a far-ahead sequence."""
    now = datetime.now(UTC)
    data = parse_data(
        EventType.COUNTER_PAUSED,
        {
            "branch_id": feed.branch,
            "timezone": WITA.key,
            "business_date": now.astimezone(WITA).date(),
            "counter_id": "c1",
            "counter_name": "Loket 1",
            "zone": "lantai-1",
            "service_ids": ["ktp"],
            "status": "paused",
            "operator": None,
        },
    )
    return new_event(data, source="/ticketing", subject="c1", time=now).with_sequence(FORGED_SEQUENCE)


async def _ready(display: DisplayProcess) -> bool:
    status, _ = await display.get("/readyz")
    return bool(status == 200)


async def _dead_lettered(bootstrap: str, dlq: str, event_id: str) -> list[bytes]:
    """The DLQ reason of every record of ``event_id`` (waits for the first, then reads to the end)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(dlq, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        reasons: list[bytes] = []
        async with asyncio.timeout(60):
            while not reasons or await consumer.position(tp) < (await consumer.end_offsets([tp]))[tp]:
                batch = await consumer.getmany(tp, timeout_ms=500)
                for record in batch.get(tp, []):
                    if record.value is not None and event_id.encode() in record.value:
                        reasons.append(dict(record.headers)[DLQ_REASON_HEADER])
        return reasons
    finally:
        await consumer.stop()
