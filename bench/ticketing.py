"""Ticketing benchmark: tickets issued per second over HTTP, call-next latency under contention.

Runs against the real PostgreSQL and Kafka (`make infra-up`); starts the
ticketing service itself as a subprocess on a free 127.0.0.1 port, with its own
schema and its own Kafka topic (both removed afterwards), so it never touches
the demo data.

    cd /work/main && .venv/bin/python -m bench.ticketing [--tickets 3000] [--clients 32] [--counters 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

DSN = os.environ.get("DATABASE_URL", "postgresql://antrian:antrian@127.0.0.1:5433/antrian")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
ADMIN_PASSWORD = "bench-admin-password"
SERVICES = 10
ALL_DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")


def bench_hall(branch: str, counters: int) -> dict[str, Any]:
    services = [f"{branch}-s{i}" for i in range(SERVICES)]
    return {
        "branch": {"id": branch, "name": "Bench hall", "timezone": "Asia/Makassar", "hours": ALL_DAY},
        "agencies": [
            {
                "id": f"{branch}-agency",
                "name": "Agency",
                "services": [
                    {"id": s, "name": f"Layanan {i}", "prefix": "ABCDEFGHJK"[i], "quota": 999}
                    for i, s in enumerate(services)
                ],
            }
        ],
        "counters": [
            {"id": f"{branch}-loket-{n}", "name": f"Loket {n}", "zone": "lantai-1", "services": services}
            for n in range(counters)
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def wait_ready(session: aiohttp.ClientSession, base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("ticketing exited during start-up")
        try:
            async with session.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("ticketing did not become ready in 60 s")


async def issue_phase(
    session: aiohttp.ClientSession, base: str, branch: str, tickets: int, clients: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def client(jobs: range) -> None:
        for i in jobs:
            body = {"service_id": f"{branch}-s{i % SERVICES}", "priority": i % 7 == 0}
            started = time.perf_counter()
            async with session.post(f"{base}/api/v1/branches/{branch}/tickets", json=body) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(range(c, tickets, clients)) for c in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "tickets": tickets,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "tickets_per_second": round(tickets / elapsed, 1),
        "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "statuses": statuses,
    }


async def call_phase(
    session: aiohttp.ClientSession, base: str, branch: str, counters: int, token: str, issue_more: int
) -> dict[str, Any]:
    """Every counter loops call-next → start → complete while kiosks keep issuing."""
    auth = {"Authorization": f"Bearer {token}"}
    call_latencies: list[float] = []
    called: list[str] = []
    for n in range(counters):
        async with session.post(f"{base}/api/v1/counters/{branch}-loket-{n}/open", headers=auth) as resp:
            assert resp.status == 200, await resp.text()

    async def counter(n: int) -> None:
        url = f"{base}/api/v1/counters/{branch}-loket-{n}"
        while True:
            started = time.perf_counter()
            async with session.post(f"{url}/call-next", headers=auth) as resp:
                body = await resp.read()
                status = resp.status
            if status == 204:
                return
            call_latencies.append(time.perf_counter() - started)
            assert status == 200, body
            called.append(json.loads(body)["id"])
            for action in ("start", "complete"):
                async with session.post(f"{url}/{action}", headers=auth) as resp:
                    assert resp.status == 200, await resp.text()

    async def kiosks() -> None:
        for i in range(issue_more):
            body = {"service_id": f"{branch}-s{i % SERVICES}"}
            async with session.post(f"{base}/api/v1/branches/{branch}/tickets", json=body) as resp:
                await resp.read()

    started = time.perf_counter()
    await asyncio.gather(kiosks(), *(counter(n) for n in range(counters)))
    elapsed = time.perf_counter() - started
    return {
        "counters": counters,
        "calls": len(call_latencies),
        "distinct_tickets_called": len(set(called)),
        "seconds": round(elapsed, 2),
        "calls_per_second": round(len(call_latencies) / elapsed, 1),
        "call_next_p50_ms": round(percentile(call_latencies, 0.5) * 1000, 1),
        "call_next_p99_ms": round(percentile(call_latencies, 0.99) * 1000, 1),
        "call_next_mean_ms": round(statistics.fmean(call_latencies) * 1000, 1),
    }


async def create_topic(topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 6, 1)])
    finally:
        await admin.close()


async def clean_up(topic: str, schema: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


async def measure(
    args: argparse.Namespace, base: str, branch: str, proc: subprocess.Popen[bytes]
) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=args.clients + args.counters + 4)
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_ready(session, base, proc)
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        async with session.post(f"{base}/api/v1/auth/login", json=login) as resp:
            token = (await resp.json())["token"]
        issuing = await issue_phase(session, base, branch, args.tickets, args.clients)
        calling = await call_phase(session, base, branch, args.counters, token, args.tickets // 5)
        async with session.get(f"{base}/metrics") as resp:
            exposition = (await resp.text()).splitlines()
    rss = next(
        (float(x.split()[1]) for x in exposition if x.startswith("process_resident_memory_bytes")), 0.0
    )
    backlog = next((x.split()[-1] for x in exposition if x.startswith("qms_outbox_backlog ")), None)
    return {
        "issue": issuing,
        "call_next": calling,
        "server_rss_mib": round(rss / 2**20, 1),
        "outbox_backlog_at_end": backlog,
        "cpus": os.cpu_count(),
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    """Seed a bench hall, start ticketing, measure, and remove everything again."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    topic = f"bench.ticketing.{uuid.uuid4().hex[:10]}"
    branch = f"bench{uuid.uuid4().hex[:6]}"
    port = free_port()
    asyncio.run(create_topic(topic))
    env = {
        **os.environ,
        "DATABASE_URL": DSN,
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "TICKETING_HOST": "127.0.0.1",
        "TICKETING_PORT": str(port),
        "TICKETING_DB_SCHEMA": schema,
        "ANTRIAN_EVENTS_TOPIC": topic,
        "ANTRIAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ANTRIAN_LOG_FORMAT": "json",
        "ANTRIAN_LOG_LEVEL": "WARNING",
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            hall = Path(tmp) / "bench.yaml"
            hall.write_text(yaml.safe_dump(bench_hall(branch, args.counters)))
            subprocess.run(
                [sys.executable, "-m", "services.ticketing", "seed", str(hall)], env=env, check=True
            )
        with tempfile.NamedTemporaryFile(prefix="bench-ticketing-", suffix=".log", delete=False) as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "services.ticketing"], env=env, stdout=log, stderr=log
            )
        try:
            return asyncio.run(measure(args, f"http://127.0.0.1:{port}", branch, proc))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        asyncio.run(clean_up(topic, schema))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--counters", type=int, default=8)
    result = main(parser.parse_args())
    print(json.dumps(result, indent=2))
