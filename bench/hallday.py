"""A compressed hall day for many branches, through the whole system, watched over time.

``python -m bench.simulate`` writes a day of ``branches`` halls onto a scratch
topic; this reads it back (the wire format is the contract) and replays it
against the real ticketing service, compressed into ``seconds``: kiosk and
online tickets issued, counters opened, paused and closed, call-next,
recall, start, complete, no-show and cancel, each at its scaled moment (the
simulator's choice of ticket is ticketing's to make again, so some actions
find nothing to do; they are counted). Display and metrics consume
ticketing's topic as in production. Every half second it samples the
outbox backlog (ticketing), the consumer lag of display and metrics, and
their event lag (event time → folded, mean over the half second).

    python -m bench.hallday [--branches 50] [--tickets 200] [--seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer

from bench.harness import (
    KAFKA,
    Admin,
    Stack,
    create_topics,
    delete_topics,
    hall_yaml,
    metric_sum,
    scrape,
    simulate,
    tag,
    topic_end,
)

COUNTER_PATHS = {
    "counter.opened": "open",
    "counter.paused": "pause",
    "counter.closed": "close",
    "ticket.called": "call-next",
    "ticket.recalled": "recall",
    "ticket.serving": "start",
    "ticket.completed": "complete",
    "ticket.no_show": "no-show",
}
IN_FLIGHT = 96


async def read_day(topic: str) -> list[dict[str, Any]]:
    """Every event on ``topic``, in time order."""
    held = await topic_end(topic)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest")
    await consumer.start()
    events: list[dict[str, Any]] = []
    try:
        while len(events) < held:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            events.extend(json.loads(r.value) for records in batch.values() for r in records)
    finally:
        await consumer.stop()
    events.sort(key=lambda e: e["time"])
    return events


def halls_of(events: list[dict[str, Any]]) -> dict[str, str]:
    """Hall files for ticketing, derived from the day's events (ids prefixed by branch)."""
    services: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    counters: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for e in events:
        d, b = e["data"], e["branchid"]
        if e["type"] == "ticket.issued":
            services[b][d["service_id"]] = {
                "id": f"{b}-{d['service_id']}",
                "name": d["service_name"],
                "prefix": d["number"][0],
                "agency_id": f"{b}-{d['agency_id']}",
                "agency_name": d["agency_name"],
            }
        elif e["type"] == "counter.opened":
            counters[b][d["counter_id"]] = {
                "id": f"{b}-{d['counter_id']}",
                "name": d["counter_name"],
                "zone": d["zone"],
                "services": [f"{b}-{s}" for s in d["service_ids"]],
            }
    halls = {}
    for b, desks in counters.items():
        known = set(services[b])
        for desk in desks.values():  # a counter only lists services the hall has
            desk["services"] = [s for s in desk["services"] if s.split(f"{b}-", 1)[1] in known]
        halls[b] = hall_yaml(b, list(services[b].values()), [d for d in desks.values() if d["services"]])
    return halls


class Replayer:
    """Replays the day's actions against ticketing at their scaled moments."""

    def __init__(self, admin: Admin, compression: float) -> None:
        self.admin, self.compression = admin, compression
        self.statuses: Counter[str] = Counter()
        self.tickets: dict[str, asyncio.Future[str | None]] = {}
        self.counters: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.gate = asyncio.Semaphore(IN_FLIGHT)
        self.late: list[float] = []

    async def _do(self, e: dict[str, Any]) -> None:
        d, b, kind = e["data"], e["branchid"], e["type"]
        if kind == "ticket.issued":
            future = self.tickets.setdefault(d["ticket_id"], asyncio.get_running_loop().create_future())
            body = {"service_id": f"{b}-{d['service_id']}", "channel": d["channel"]}
            status, answer = await self.admin.post(f"/api/v1/branches/{b}/tickets", body)
            future.set_result(answer["id"] if status == 201 else None)
        elif kind == "ticket.cancelled":
            issued = self.tickets.get(d["ticket_id"])
            real = await issued if issued is not None else None
            if real is None:
                self.statuses[f"{kind} skipped"] += 1
                return
            status, _ = await self.admin.post(f"/api/v1/tickets/{real}/cancel")
        elif kind in COUNTER_PATHS:
            counter = d.get("counter_id")
            async with self.counters[counter]:
                status, _ = await self.admin.post(f"/api/v1/counters/{b}-{counter}/{COUNTER_PATHS[kind]}")
        else:
            self.statuses[f"{kind} skipped"] += 1
            return
        self.statuses[f"{kind} {status}"] += 1

    async def _one(self, e: dict[str, Any], due: float) -> None:
        async with self.gate:
            self.late.append(max(0.0, time.monotonic() - due))
            await self._do(e)

    async def run(self, events: list[dict[str, Any]]) -> float:
        """Replay ``events``; the seconds it took."""
        first = datetime.fromisoformat(events[0]["time"])
        started = time.monotonic()
        tasks = []
        for e in events:
            due = started + (datetime.fromisoformat(e["time"]) - first).total_seconds() / self.compression
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._one(e, due)))
        await asyncio.gather(*tasks)
        return time.monotonic() - started


class Sampler:
    """Samples backlog, consumer lags and event lags every ``interval`` seconds."""

    def __init__(self, stack: Stack, interval: float = 0.5) -> None:
        self.stack, self.interval = stack, interval
        self.rows: list[dict[str, float]] = []
        self.origin = time.monotonic()
        self._last: dict[str, tuple[float, float]] = {}

    def _lag_mean(self, key: str, values: dict[str, float], name: str) -> float | None:
        total, count = metric_sum(values, name + "_sum"), metric_sum(values, name + "_count")
        before = self._last.get(key, (0.0, 0.0))
        self._last[key] = (total, count)
        return (total - before[0]) / (count - before[1]) if count > before[1] else None

    async def sample(self, http: aiohttp.ClientSession) -> dict[str, float]:
        """One row of readings."""
        t = await scrape(http, self.stack.ports["ticketing"])
        d = await scrape(http, self.stack.ports["display"])
        m = await scrape(http, self.stack.ports["metrics"])
        row = {
            "t": time.monotonic() - self.origin,
            "outbox_backlog": metric_sum(t, "qms_outbox_backlog"),
            "published": metric_sum(t, "qms_outbox_published_total"),
            "display_consumer_lag": metric_sum(d, "qms_display_consumer_lag"),
            "metrics_consumer_lag": metric_sum(m, "qms_consumer_lag"),
            "display_event_lag_s": self._lag_mean("d", d, "qms_display_event_lag_seconds"),
            "metrics_event_lag_s": self._lag_mean("m", m, "qms_event_lag_seconds"),
        }
        self.rows.append(row)  # type: ignore[arg-type]
        return row  # type: ignore[return-value]

    async def run(self, stop: asyncio.Event) -> None:
        """Sample until ``stop`` is set."""
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                with contextlib.suppress(aiohttp.ClientError):
                    await self.sample(http)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)


async def run(branches: int, tickets: int, seconds: float) -> dict[str, Any]:
    """Simulate, seed, replay compressed, and watch until everything has drained."""
    scratch = f"bench.day.{tag()}"
    await create_topics(scratch)
    try:
        summary = await simulate(scratch, "hd", branches, tickets, 8.0)
        events = await read_day(scratch)
    finally:
        await delete_topics([scratch])
    stack = Stack()
    try:
        await stack.topics()
        await stack.seed(halls_of(events))
        await stack.start("ticketing", "display", "metrics")
        span = (
            datetime.fromisoformat(events[-1]["time"]) - datetime.fromisoformat(events[0]["time"])
        ).total_seconds()
        compression = span / seconds
        sampler, stop = Sampler(stack), asyncio.Event()
        watching = asyncio.create_task(sampler.run(stop))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT + 4)) as http:
            admin = Admin(http, stack.url("ticketing"))
            await admin.login()
            replayer = Replayer(admin, compression)
            took = await replayer.run(events)
        replay_end = time.monotonic() - sampler.origin
        drained_at = None
        async with aiohttp.ClientSession() as http, asyncio.timeout(300):
            while True:
                row = await sampler.sample(http)
                if (
                    row["outbox_backlog"] == 0
                    and row["display_consumer_lag"] == 0
                    and row["metrics_consumer_lag"] == 0
                ):
                    drained_at = row["t"]
                    break
                await asyncio.sleep(0.5)
        stop.set()
        await watching
        return {
            "branches": branches,
            "tickets_per_branch": tickets,
            "simulated_events": len(events),
            "simulated_hours": span / 3600,
            "compression": compression,
            "replay_seconds": took,
            "replay_end_t": replay_end,
            "drained_t": drained_at,
            "dispatch_late_ms": {
                "p50": 1000 * sorted(replayer.late)[len(replayer.late) // 2],
                "max": 1000 * max(replayer.late),
            },
            "statuses": dict(sorted(replayer.statuses.items())),
            "published": sampler.rows[-1]["published"],
            "simulator": summary,
            "series": sorted(sampler.rows, key=lambda r: r["t"]),
        }
    finally:
        await stack.close()


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=200, help="tickets per branch")
    parser.add_argument("--seconds", type=float, default=120.0, help="the day compressed into this")
    args = parser.parse_args()
    result = asyncio.run(run(args.branches, args.tickets, args.seconds))
    print(json.dumps({k: v for k, v in result.items() if k != "series"}, indent=2))


if __name__ == "__main__":
    main()
