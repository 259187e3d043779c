"""The full reconciliation that ends every failover test.

After the load stops, every ticket the clients saw accepted must be, exactly
once, in PostgreSQL, on Kafka, on every screen and in every metrics
instance's totals; the branch's sequences on Kafka must run 1..N without a
gap, a duplicate or a reordering. Each source is read independently of the
code under test (SQL, a plain Kafka consumer, the websocket, /metrics).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster.cluster import Cluster
from tests.cluster.hall import Branch, HallLoad, Screen

TOPIC = "queue.events"


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float, what: str) -> Any:
    """Poll ``check`` until it returns neither ``None`` nor ``False``; fail after ``within`` seconds.

    Identity, not truth: a check may well find partition 0 or node 0.
    """
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last is not None and last is not False:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what}: not within {within:.0f} s (last: {last!r})")


@dataclass(frozen=True)
class Record:
    """One event of the branch on Kafka."""

    partition: int
    offset: int
    event: dict[str, Any]


async def partitions(bootstrap: str) -> list[int]:
    """The partition numbers of the events topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (topic,) = await admin.describe_topics([TOPIC])
        return sorted(p["partition"] for p in topic["partitions"])
    finally:
        await admin.close()


async def branch_records(bootstrap: str, branch_id: str) -> list[Record]:
    """Every record of ``branch_id`` on ``queue.events``, read from the beginning up to the end offsets."""
    parts = [TopicPartition(TOPIC, p) for p in await partitions(bootstrap)]
    # "earliest" from the start: a lazy seek_to_beginning after assign() can lose
    # the race against the default reset to the end.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        found: list[Record] = []
        key = branch_id.encode()
        async with asyncio.timeout(120):
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
                for tp, records in batch.items():
                    found.extend(
                        Record(tp.partition, r.offset, json.loads(r.value))
                        for r in records
                        if r.key == key and r.offset < ends[tp]
                    )
        return found
    finally:
        await consumer.stop()


async def metric_totals(http: aiohttp.ClientSession, url: str, branch_id: str) -> dict[str, float]:
    """The branch's ticket totals as one metrics instance exports them."""
    async with http.get(f"{url}/metrics") as resp:
        text = await resp.text()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            ours = sample.labels.get("branch") == branch_id
            if ours and sample.name.startswith("qms_tickets_") and sample.name.endswith("_total"):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


async def prometheus_values(http: aiohttp.ClientSession, url: str, query: str) -> list[float]:
    """Every value an instant query returns."""
    async with http.get(f"{url}/api/v1/query", params={"query": query}) as resp:
        body = await resp.json()
    return [float(r["value"][1]) for r in body["data"]["result"]]


async def prometheus_value(http: aiohttp.ClientSession, url: str, query: str) -> float | None:
    """The single value of an instant query, or None when it returns nothing."""
    async with http.get(f"{url}/api/v1/query", params={"query": query}) as resp:
        body = await resp.json()
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


async def reconcile(
    cluster: Cluster,
    http: aiohttp.ClientSession,
    load: HallLoad,
    screens: list[Screen],
    branch: Branch,
    pool: asyncpg.Pool,
) -> dict[str, Any]:
    """Check every accepted ticket exactly once everywhere; return the figures for the report."""
    started = time.monotonic()

    async def drained() -> bool:
        pending = await pool.fetchval(
            "SELECT count(*) FROM ticketing.outbox WHERE branch_id = $1 AND published_at IS NULL",
            branch.id,
        )
        return pending == 0

    await eventually(drained, within=180, what="the outbox publishes every event of the branch")
    outbox_drained = time.monotonic() - started

    # PostgreSQL: exactly the accepted tickets, each number once.
    rows = await pool.fetch("SELECT id::text, number FROM ticketing.tickets WHERE branch_id = $1", branch.id)
    assert {r["id"] for r in rows} == set(load.accepted), "PostgreSQL and the accepted tickets differ"
    assert len({r["number"] for r in rows}) == len(rows), "a ticket number was given twice"
    last_seq = await pool.fetchval(
        "SELECT last_sequence FROM ticketing.branch_sequences WHERE branch_id = $1", branch.id
    )
    published = await pool.fetchval("SELECT count(*) FROM ticketing.outbox WHERE branch_id = $1", branch.id)

    # Kafka: the sequences 1..N in offset order, each one event; every accepted ticket issued once.
    # The relay publishes at least once: a row Kafka acknowledged but PostgreSQL
    # could not mark published (the database went away) is sent again with the
    # same id and sequence, which consumers drop. Such re-sends are counted, and
    # must be exact copies directly after the original.
    records = await branch_records(cluster.bootstrap, branch.id)
    where = sorted({r.partition for r in records})
    assert len(where) == 1, f"the branch's events are in partitions {where}"
    ordered = sorted(records, key=lambda r: r.offset)
    first: dict[int, str] = {}
    distinct: list[Record] = []
    for r in ordered:
        seq = int(r.event["sequence"])
        if seq in first:
            assert first[seq] == r.event["id"], f"two different events carry sequence {seq}"
            assert seq > len(distinct) - 600, f"sequence {seq} re-sent far out of order"
            continue
        first[seq] = r.event["id"]
        distinct.append(r)
    seqs = [int(r.event["sequence"]) for r in distinct]
    assert seqs == list(range(1, last_seq + 1)), (
        f"the branch's sequences on Kafka are not 1..{last_seq} in order: {len(seqs)} distinct,"
        f" missing {sorted(set(range(1, last_seq + 1)) - set(seqs))[:10]}"
    )
    assert len(distinct) == published
    by_type = Counter(r.event["type"] for r in distinct)
    issued = Counter(r.event["data"]["ticket_id"] for r in distinct if r.event["type"] == "ticket.issued")
    assert set(issued) == set(load.accepted), "the tickets issued on Kafka and the accepted ones differ"
    assert set(issued.values()) == {1}, "a ticket was issued by two events"
    records = distinct
    calls = {
        int(r.event["sequence"]) for r in records if r.event["type"] in ("ticket.called", "ticket.recalled")
    }

    # Screens: each has seen the last call, every call live or in a snapshot, none twice live.
    last_call = max(calls, default=0)
    for screen in screens:

        async def caught_up(screen: Screen = screen) -> bool:
            return screen.last_seq >= last_call

        await eventually(caught_up, within=90, what="a screen shows the branch's last call")
        missing = calls - set(screen.live) - screen.in_snapshots
        assert not missing, f"calls never shown on a screen: {sorted(missing)[:10]}"
        assert not screen.shown_twice, f"calls shown twice: {screen.shown_twice[:10]}"

    # Metrics: every instance exports the same totals, equal to the events on Kafka.
    expected = {
        "qms_tickets_issued_total": float(by_type["ticket.issued"]),
        "qms_tickets_called_total": float(by_type["ticket.called"]),
        "qms_tickets_completed_total": float(by_type["ticket.completed"]),
    }
    seen: dict[str, dict[str, float]] = {}
    for n in range(1, len(cluster.ports("metrics")) + 1):
        url = cluster.instance_url("metrics", n)

        async def matches(url: str = url) -> bool:
            seen[url] = await metric_totals(http, url, branch.id)
            return all(seen[url].get(k) == v for k, v in expected.items())

        try:
            await eventually(matches, within=120, what=f"metrics-{n} totals equal the events on Kafka")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: exported {seen[url]}, expected {expected}") from None

    # Prometheus: the dashboards' form of the total counts each ticket once.
    query = f'sum(max without (instance) (qms_tickets_issued_total{{branch="{branch.id}"}}))'

    async def prometheus_agrees() -> bool:
        return await prometheus_value(http, cluster.prometheus, query) == expected["qms_tickets_issued_total"]

    await eventually(prometheus_agrees, within=120, what="Prometheus' hall total equals the tickets issued")
    return {
        "accepted": len(load.accepted),
        "events": len(records),
        "kafka_resent_records": len(ordered) - len(distinct),
        "calls": by_type["ticket.called"],
        "completed": by_type["ticket.completed"],
        "surveys": by_type["survey.submitted"],
        "outbox_drained_seconds": round(outbox_drained, 2),
        "reconciled_seconds": round(time.monotonic() - started, 2),
        "screen_reconnects": [s.connects - 1 for s in screens],
    }
