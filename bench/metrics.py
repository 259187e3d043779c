"""Benchmark of the metrics service: event lag (event time → processed) and throughput.

Starts ``python -m services.metrics`` as a subprocess on 127.0.0.1 with its own
topic, DLQ topic, schema and consumer group, then runs two phases:

1. *steady*: valid hall events at a fixed rate (``--rate`` events/s for
   ``--seconds``), each stamped with the time it is produced;
2. *burst*: ``--burst`` events produced as fast as the broker takes them.

Lag is read back from the service's own ``processed_events`` table
(``processed_at - event_time``), so it covers Kafka, decoding, the
PostgreSQL transaction and the offset commit's predecessor steps.

    cd /work/main && .venv/bin/python -m bench.metrics
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import aiohttp
import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.events import CloudEvent, EventType, encode, new_event, parse_data

DSN = os.environ.get("DATABASE_URL", "postgresql://antrian:antrian@127.0.0.1:5433/antrian")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hall_events(branches: int) -> Iterator[CloudEvent]:
    """An endless stream of ticket lifecycles spread over ``branches`` branches, stamped now."""
    sequences = {f"bench-{b}": itertools.count(1) for b in range(branches)}
    for n in itertools.count():
        branch = f"bench-{n % branches}"
        ticket = str(uuid.uuid4())
        issued_at = datetime.now(UTC)
        base = dict(
            ticket_id=ticket,
            number=f"A{n % 1000:03d}",
            branch_id=branch,
            timezone="Asia/Makassar",
            business_date=date(2026, 11, 28),
            service_id=f"svc-{n % 7}",
            service_name=f"Layanan {n % 7}",
            agency_id=f"agency-{n % 3}",
            agency_name=f"Instansi {n % 3}",
            priority=False,
            channel="kiosk",
            issued_at=issued_at,
        )
        counter = {"counter_id": f"loket-{n % 5}", "counter_name": f"Loket {n % 5}"}
        steps: list[tuple[EventType, dict[str, object]]] = [
            (
                EventType.TICKET_ISSUED,
                {
                    "status": "waiting",
                    "position": 1,
                    "estimated_wait_seconds": 300,
                    "target_wait_seconds": 900,
                },
            ),
            (EventType.TICKET_CALLED, {**counter, "status": "called", "called_at": datetime.now(UTC)}),
            (EventType.TICKET_SERVING, {**counter, "status": "serving", "serving_at": datetime.now(UTC)}),
            (
                EventType.TICKET_COMPLETED,
                {**counter, "status": "completed", "completed_at": datetime.now(UTC)},
            ),
        ]
        for kind, extra in steps:
            data = parse_data(kind, {**base, **extra})
            yield new_event(data, source="/bench", subject=ticket, time=datetime.now(UTC)).with_sequence(
                next(sequences[branch])
            )


async def _produce(
    producer: AIOKafkaProducer, topic: str, stream: Iterator[CloudEvent], count: int, rate: float | None
) -> float:
    started = time.perf_counter()
    pending = []
    for i in range(count):
        if rate is not None:
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        event = next(stream)
        pending.append(await producer.send(topic, encode(event), key=event.branchid.encode()))
    await asyncio.gather(*pending)
    return time.perf_counter() - started


async def _wait_processed(pool: asyncpg.Pool, expected: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await pool.fetchval("SELECT count(*) FROM processed_events") >= expected:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"fewer than {expected} events processed within {within} s")


async def _lag(pool: asyncpg.Pool, since: int) -> dict[str, float]:
    rows = await pool.fetch(
        "SELECT extract(epoch FROM processed_at - event_time)::float8 AS lag, processed_at, event_time"
        " FROM processed_events ORDER BY processed_at OFFSET $1",
        since,
    )
    lags = sorted(r["lag"] for r in rows)
    span = (rows[-1]["processed_at"] - rows[0]["event_time"]).total_seconds()
    q = statistics.quantiles(lags, n=100, method="inclusive")
    return {
        "events": len(lags),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "max_ms": round(lags[-1] * 1000, 1),
        "events_per_s": round(len(lags) / span, 1),
    }


async def _ready(port: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.3)
    raise TimeoutError("the metrics service did not become ready")


async def run(args: argparse.Namespace) -> dict[str, object]:
    """Run both phases and return the figures."""
    tag = uuid.uuid4().hex[:10]
    topic, dlq, schema = f"bench.metrics.{tag}", f"bench.metrics.dlq.{tag}", f"bench_{tag}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(topic, args.partitions, 1), NewTopic(dlq, 1, 1)])
    port = _free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "DATABASE_URL": DSN,
        "METRICS_PORT": str(port),
        "METRICS_HOST": "127.0.0.1",
        "METRICS_DB_SCHEMA": schema,
        "ANTRIAN_EVENTS_TOPIC": topic,
        "ANTRIAN_DLQ_TOPIC": dlq,
        "METRICS_CONSUMER_GROUP": f"bench-{tag}",
        "METRICS_TICKETING_URL": f"http://127.0.0.1:{_free_port()}",
        "ANTRIAN_LOG_FORMAT": "json",
    }
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.metrics", env=env, stderr=asyncio.subprocess.DEVNULL
    )
    pool = None
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, linger_ms=5, acks="all")
    try:
        await _ready(port)
        pool = await asyncpg.create_pool(DSN, min_size=1, max_size=2, server_settings={"search_path": schema})
        await producer.start()
        stream = hall_events(args.branches)
        steady_n = int(args.rate * args.seconds)
        await _produce(producer, topic, stream, steady_n, args.rate)
        await _wait_processed(pool, steady_n, 120)
        steady = await _lag(pool, 0)
        produce_s = await _produce(producer, topic, stream, args.burst, None)
        await _wait_processed(pool, steady_n + args.burst, 300)
        burst = await _lag(pool, steady_n)
        burst["produce_s"] = round(produce_s, 2)
        return {
            "steady": {"rate": args.rate, "seconds": args.seconds, **steady},
            "burst": burst,
            "partitions": args.partitions,
            "branches": args.branches,
        }
    finally:
        await producer.stop()
        if service.returncode is None:
            service.send_signal(signal.SIGTERM)
            await asyncio.wait_for(service.wait(), 30)
        if pool is not None:
            await pool.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await pool.close()
        await admin.delete_topics([topic, dlq])
        await admin.close()


def main() -> None:
    """Command line: run the benchmark and print its figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="steady phase: events per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="steady phase: duration")
    parser.add_argument("--burst", type=int, default=20000, help="burst phase: events produced at once")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--branches", type=int, default=20)
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
