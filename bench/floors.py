"""The floors: what the parts a call goes through cost when used bare, measured in the same run.

* an HTTP round trip to the service (``GET /healthz`` on a kept-alive connection);
* a PostgreSQL commit of the writes a call makes (the ticket's row, the
  counter's row, an outbox row of the event's size and its NOTIFY), on a
  private schema;
* a bare aiokafka round trip: produce with ``acks=all`` and read it back;
* a bare ``websockets.broadcast`` to as many clients as the display holds.
"""

from __future__ import annotations

import json
import time
import uuid

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.harness import DSN, KAFKA, create_topics, delete_topics, drop_schemas, free_port, tag
from bench.screens import Fleet, FloorServer

EVENT_BYTES = 1100  # about the size of a ticket.called event


async def http_round_trip(base: str, samples: int) -> list[float]:
    """Seconds per ``GET /healthz`` on one kept-alive connection."""
    times = []
    async with aiohttp.ClientSession() as http:
        for _ in range(samples + 5):
            started = time.perf_counter()
            async with http.get(f"{base}/healthz") as resp:
                await resp.read()
            times.append(time.perf_counter() - started)
    return times[5:]


async def pg_commit(samples: int) -> list[float]:
    """Seconds per transaction making a call's writes (two updates, an outbox row, a NOTIFY)."""
    schema = f"bench_f_{tag()}"
    conn = await asyncpg.connect(DSN)
    payload = json.dumps({"pad": "x" * EVENT_BYTES})
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"; SET search_path = "{schema}"')
        await conn.execute(
            "CREATE TABLE ticket (id uuid PRIMARY KEY, status text, counter_id text, called_at timestamptz);"
            "CREATE TABLE counter (id text PRIMARY KEY, active uuid);"
            "CREATE TABLE outbox (id bigserial PRIMARY KEY, branch_id text, event_id text, event_type text,"
            " event jsonb, sequence bigint, published_at timestamptz);"
            "CREATE INDEX ON outbox (branch_id, id) WHERE published_at IS NULL"
        )
        ticket = uuid.uuid4()
        await conn.execute("INSERT INTO ticket VALUES ($1, 'waiting', NULL, NULL)", ticket)
        await conn.execute("INSERT INTO counter VALUES ('c1', NULL)")
        times = []
        for _ in range(samples + 5):
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute(
                    "UPDATE ticket SET status = 'called', counter_id = 'c1', called_at = now() WHERE id = $1",
                    ticket,
                )
                await conn.execute("UPDATE counter SET active = $1 WHERE id = 'c1'", ticket)
                await conn.execute(
                    "INSERT INTO outbox (branch_id, event_id, event_type, event)"
                    " VALUES ('b', $1, 'ticket.called', $2::jsonb)",
                    str(uuid.uuid4()),
                    payload,
                )
                await conn.execute("SELECT pg_notify('bench_floor', 'b')")
            times.append(time.perf_counter() - started)
        return times[5:]
    finally:
        await conn.close()
        await drop_schemas([schema])


async def kafka_round_trip(samples: int) -> list[float]:
    """Seconds from a produce with ``acks=all`` until a consumer has the record."""
    topic = f"bench.floor.{tag()}"
    await create_topics(topic, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=0, enable_idempotence=True)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, fetch_max_wait_ms=500)
    await producer.start()
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        payload = b"x" * EVENT_BYTES
        times = []
        for _ in range(samples + 5):
            started = time.perf_counter()
            await producer.send_and_wait(topic, payload, key=b"b")
            await consumer.getone()
            times.append(time.perf_counter() - started)
        return times[5:]
    finally:
        await producer.stop()
        await consumer.stop()
        await delete_topics([topic])


async def ws_broadcast(screens: int, samples: int) -> list[float]:
    """Seconds from handing a message to a bare broadcast server until each of ``screens`` has it."""
    port = free_port()
    latencies: list[float] = []
    async with FloorServer(port) as server, Fleet(f"ws://127.0.0.1:{port}/ws/floor", screens) as fleet:
        for i in range(samples + 2):
            marker = f'"F{i:05d}"'
            message = json.dumps({"type": "ticket.called", "number": f"F{i:05d}", "pad": "x" * 600})
            await fleet.expect('"ticket.called"', marker)
            started = time.monotonic()
            await server.send(message)
            times = await fleet.seen()
            if i >= 2:
                latencies.extend(t - started for t in times)
    return latencies
