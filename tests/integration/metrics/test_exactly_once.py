"""Redelivered and replayed events never count twice; a restart keeps every figure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.events import EventType
from tests.integration.metrics.conftest import MetricsHallKit, Starter, key, scrape, wait_until
from tests.integration.metrics.halls import hall_day, marker
from tests.unit.metrics.events import at, counter_event, ticket_event

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TICKETS = 12


def _branch(hall: MetricsHallKit) -> str:
    return "b-" + hall.schema.removeprefix("test_")


def _figures(samples: dict[Any, float], branch: str) -> dict[Any, float]:
    """Every stored figure of ``branch`` (not the process's own metrics, not the markers)."""
    return {
        k: v
        for k, v in samples.items()
        if ("branch", branch) in k[1]
        and not any(name == "counter" and value.startswith("marker-") for name, value in k[1])
    }


def _fixed_clock() -> datetime:
    """Live gauges (oldest waiting, idle time) must not move between the scrapes compared."""
    return at(420)  # 16:00 WITA on the same business day


async def _processed_count(hall: MetricsHallKit) -> int:
    return int(await hall.fetchval("SELECT count(*) FROM processed_events"))


async def _reset_group(hall: MetricsHallKit) -> None:
    """Move the group's committed offsets back to the start, as an operator's reset would."""
    consumer = AIOKafkaConsumer(bootstrap_servers=hall.kafka, group_id=hall.group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(hall.topic, p) for p in range(3)]  # the hall's topic has 3 partitions
        consumer.assign(tps)
        await consumer.commit(dict.fromkeys(tps, 0))
        assert [await consumer.committed(tp) for tp in tps] == [0, 0, 0]
    finally:
        await consumer.stop()


async def test_redelivery_and_replay_do_not_double(hall: MetricsHallKit, start_metrics: Starter) -> None:
    branch = _branch(hall)
    events = hall_day(branch, TICKETS)
    client = await start_metrics(hall.settings(), _fixed_clock)
    await hall.produce(events)

    async def all_applied() -> bool:
        return await _processed_count(hall) == len(events)

    await wait_until(all_applied)
    first = _figures(await scrape(client), branch)
    queue = {"branch": branch, "agency": "disdukcapil", "service": "ktp"}
    assert first[key("qms_tickets_issued_total", **queue, channel="kiosk")] == TICKETS
    assert first[key("qms_tickets_completed_total", **queue, counter="loket-1")] == TICKETS - 2
    assert first[key("qms_wait_seconds_count", **queue)] == TICKETS - 2
    assert first[key("qms_queue_waiting", **queue)] == 2

    mark1, mark2, mark3 = (marker(branch, n) for n in (1, 2, 3))
    # Redelivery: the very same records again, then a marker behind them on the same partition.
    await hall.produce([*events, mark1])
    await wait_until(lambda: hall.processed(mark1))
    assert await _processed_count(hall) == len(events) + 1
    assert _figures(await scrape(client), branch) == first

    # Replay: stop, rewind the group to the beginning, start again; everything is read anew.
    await client.close()
    await _reset_group(hall)
    again = await start_metrics(hall.settings(), _fixed_clock)
    await hall.produce([mark2])
    await wait_until(lambda: hall.processed(mark2))
    assert await _processed_count(hall) == len(events) + 2
    assert _figures(await scrape(again), branch) == first

    # A second consumer group over the same store (a new replica set) changes nothing either.
    other = await start_metrics(hall.settings(group=hall.group + "-b"), _fixed_clock)
    await hall.produce([mark3])
    await wait_until(lambda: hall.processed(mark3))
    for service in (again, other):
        assert _figures(await scrape(service), branch) == first


async def test_restart_keeps_gauges_right(hall: MetricsHallKit, start_metrics: Starter) -> None:
    branch = _branch(hall)
    now = at(30)

    def clock() -> datetime:
        return now

    events = [
        counter_event(EventType.COUNTER_OPENED, 0, counter="loket-1", branch=branch, sequence=1),
        counter_event(EventType.COUNTER_OPENED, 0, counter="loket-2", branch=branch, sequence=2),
        *[
            ticket_event(
                EventType.TICKET_ISSUED,
                0,
                ticket=f"{branch}-t{i}",
                branch=branch,
                sequence=3 + i,
                issued_at=at(i * 5).isoformat(),
            )
            for i in range(3)
        ],
        ticket_event(
            EventType.TICKET_CALLED,
            20,
            ticket=f"{branch}-t0",
            branch=branch,
            counter="loket-1",
            sequence=6,
            issued_at=at(0).isoformat(),
        ),
    ]
    client = await start_metrics(hall.settings(), clock)
    await hall.produce(events)
    await wait_until(lambda: hall.processed(events[-1]))
    before = _figures(await scrape(client), branch)
    queue = {"branch": branch, "agency": "disdukcapil", "service": "ktp"}
    assert before[key("qms_queue_waiting", **queue)] == 2
    # The oldest waiting ticket (t1) was issued at minute 5; now is minute 30.
    assert before[key("qms_oldest_waiting_seconds", **queue)] == timedelta(minutes=25).total_seconds()
    assert before[key("qms_counters_open", branch=branch)] == 2
    # loket-1 idled from 0 to 20 minutes; loket-2 idles since 0, so 30 minutes by now.
    assert before[key("qms_counter_idle_seconds_total", branch=branch, counter="loket-1")] == 1200
    assert before[key("qms_counter_idle_seconds_total", branch=branch, counter="loket-2")] == 1800

    await client.close()
    restarted = await start_metrics(hall.settings(), clock)
    # No new event is needed: the first scrape after the restart is already right.
    assert _figures(await scrape(restarted), branch) == before


async def test_two_replicas_in_one_group_count_once(hall: MetricsHallKit, start_metrics: Starter) -> None:
    branches = [f"r{i}-" + hall.schema.removeprefix("test_")[:8] for i in range(4)]
    days = {b: hall_day(b, 6) for b in branches}
    half = {b: len(events) // 2 for b, events in days.items()}
    first = await start_metrics(hall.settings(), _fixed_clock)
    await hall.produce([e for b, events in days.items() for e in events[: half[b]]])
    # A second replica joins mid-stream: the group rebalances while events flow.
    second = await start_metrics(hall.settings(), _fixed_clock)
    await hall.produce([e for b, events in days.items() for e in events[half[b] :]])
    total = sum(len(events) for events in days.values())

    async def all_applied() -> bool:
        return await _processed_count(hall) == total

    await wait_until(all_applied, within=60)
    for client in (first, second):
        samples = await scrape(client)
        for branch in branches:
            queue = {"branch": branch, "agency": "disdukcapil", "service": "ktp"}
            assert samples[key("qms_tickets_issued_total", **queue, channel="kiosk")] == 6
            assert samples[key("qms_tickets_completed_total", **queue, counter="loket-1")] == 4
            assert samples[key("qms_queue_waiting", **queue)] == 2
