"""What every benchmark section shares: private topics and schemas, service subprocesses, probes.

Everything here talks to the system only through its public boundaries (the
services' command lines and environment variables, HTTP, websockets, Kafka
and PostgreSQL), so it survives refactors of the services' insides.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
DSN = os.environ.get("DATABASE_URL", "postgresql://antrian:antrian@127.0.0.1:5433/antrian")
ADMIN_PASSWORD = "bench-" + uuid.uuid4().hex
ALL_DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
TICKS = os.sysconf("SC_CLK_TCK")


def raise_nofile(wanted: int = 200_000) -> int:
    """Raise this process's open-file limit (inherited by every child) as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tag() -> str:
    """A short random tag for private topics, schemas and branches."""
    return uuid.uuid4().hex[:8]


def pct(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of seconds, in milliseconds."""
    return {
        "p50": pct(values, 0.5) * 1000,
        "p99": pct(values, 0.99) * 1000,
        "max": (max(values) if values else float("nan")) * 1000,
        "n": len(values),
    }


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores) so far."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / TICKS


class CpuMeter:
    """CPU seconds of some processes and of the whole machine over a window."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = self._read()
        self.wall = time.monotonic()

    def _read(self) -> dict[str, float]:
        values = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(OSError):
                values[name] = cpu_seconds(pid)
        values["machine"] = machine_cpu_seconds()
        return values

    def shares(self) -> dict[str, float]:
        """Each process's (and the machine's) CPU in cores used over the window."""
        now, wall = self._read(), time.monotonic() - self.wall
        return {k: (now[k] - self.start.get(k, 0.0)) / max(wall, 1e-9) for k in now}


def parse_metrics(text: str) -> dict[str, float]:
    """A Prometheus exposition as ``{"name{labels}": value}``."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            values[name] = float(value)
    return values


def metric_sum(values: dict[str, float], name: str, contains: str = "") -> float:
    """The sum over every series of ``name`` whose labels contain ``contains``."""
    total = 0.0
    for key, value in values.items():
        base = key.split("{", 1)[0]
        if base == name and contains in key:
            total += value
    return total


async def scrape(http: aiohttp.ClientSession, port: int) -> dict[str, float]:
    """One scrape of a service's /metrics."""
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        return parse_metrics(await resp.text())


async def wait_ready(http: aiohttp.ClientSession, port: int, within: float = 120.0) -> float:
    """Wait until /readyz answers 200; return when (monotonic)."""
    async with asyncio.timeout(within):
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return time.monotonic()
            await asyncio.sleep(0.05)


async def create_topics(*names: str, partitions: int = 6) -> None:
    """Create private topics (``partitions`` each, one replica)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


async def delete_topics(names: Iterable[str]) -> None:
    """Delete private topics, ignoring the ones already gone."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        with contextlib.suppress(Exception):
            await admin.delete_topics(list(names))
    finally:
        await admin.close()


async def drop_schemas(names: Iterable[str]) -> None:
    """Drop private schemas."""
    conn = await asyncpg.connect(DSN)
    try:
        for name in names:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def topic_end(topic: str) -> int:
    """The sum of the end offsets of ``topic``'s partitions."""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await producer.start()
    await consumer.start()
    try:
        parts = await producer.partitions_for(topic)  # the consumer has no public metadata call
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return int(sum(ends.values()))
    finally:
        await consumer.stop()
        await producer.stop()


async def run_checked(env: dict[str, str], *args: str) -> str:
    """Run ``python ARGS`` to completion; its output, or an error with its tail."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed: {err.decode()[-2000:]}")
    return out.decode()


async def simulate(topic: str, branch: str, branches: int, tickets: int, hours: float) -> dict[str, Any]:
    """Produce simulated hall days onto ``topic`` through ``python -m bench.simulate``; its summary."""
    start = time.time() - hours * 3600 - 60
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(start, UTC).isoformat()
    out = await run_checked(
        dict(os.environ),
        "-m",
        "bench.simulate",
        "--bootstrap",
        KAFKA,
        "--topic",
        topic,
        "--branch",
        branch,
        "--branches",
        str(branches),
        "--tickets",
        str(tickets),
        "--hours",
        str(hours),
        "--start",
        stamp,
    )
    result: dict[str, Any] = json.loads(out)
    return result


def hall_yaml(branch: str, services: Sequence[dict[str, Any]], counters: Sequence[dict[str, Any]]) -> str:
    """A hall file (JSON is YAML) open all day, with the given services and counters."""
    agencies: dict[str, dict[str, Any]] = {}
    for s in services:
        agency = agencies.setdefault(
            s["agency_id"], {"id": s["agency_id"], "name": s["agency_name"], "services": []}
        )
        agency["services"].append(
            {"id": s["id"], "name": s["name"], "prefix": s["prefix"], "quota": 999, "service_minutes": 5}
        )
    hall = {
        "branch": {
            "id": branch,
            "name": f"Bench {branch}",
            "timezone": "Asia/Makassar",
            "hours": ALL_DAY,
            "breaks": [],
            "holidays": [],
            "issuing_cutoff_minutes": 0,
        },
        "agencies": list(agencies.values()),
        "counters": [dict(c) for c in counters],
        "users": [],
    }
    return json.dumps(hall)


def simple_hall(branch: str, services: int = 1, counters: int = 1) -> str:
    """A hall with ``services`` services of one agency, every counter serving all of them."""
    ids = [f"{branch}-s{i}" for i in range(services)]
    rows = [
        {
            "id": sid,
            "name": f"Layanan {i}",
            "prefix": "ABCDEFGHJK"[i],
            "agency_id": f"{branch}-agency",
            "agency_name": "Disdukcapil",
        }
        for i, sid in enumerate(ids)
    ]
    desks = [
        {"id": f"{branch}-loket-{n}", "name": f"Loket {n}", "zone": "lantai-1", "services": ids}
        for n in range(1, counters + 1)
    ]
    return hall_yaml(branch, rows, desks)


@dataclass
class Stack:
    """Services started as subprocesses with a private topic, DLQ, schemas and consumer group."""

    name: str = field(default_factory=tag)
    topic: str = ""
    dlq: str = ""
    procs: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.topic = self.topic or f"bench.events.{self.name}"
        self.dlq = self.dlq or f"bench.dlq.{self.name}"
        self.ports = {s: free_port() for s in ("ticketing", "display", "metrics")}

    @property
    def env(self) -> dict[str, str]:
        """The environment every service of this stack runs with."""
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
            "DATABASE_URL": DSN,
            "ANTRIAN_EVENTS_TOPIC": self.topic,
            "ANTRIAN_DLQ_TOPIC": self.dlq,
            "ANTRIAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ANTRIAN_LOG_FORMAT": "json",
            "ANTRIAN_LOG_LEVEL": "WARNING",
            "TICKETING_HOST": "127.0.0.1",
            "TICKETING_PORT": str(self.ports["ticketing"]),
            "TICKETING_DB_SCHEMA": f"bench_t_{self.name}",
            "DISPLAY_HOST": "127.0.0.1",
            "DISPLAY_PORT": str(self.ports["display"]),
            "DISPLAY_TICKETING_URL": f"http://127.0.0.1:{self.ports['ticketing']}",
            "DISPLAY_AUDIO_CACHE": str(self.workdir / "audio"),
            "METRICS_HOST": "127.0.0.1",
            "METRICS_PORT": str(self.ports["metrics"]),
            "METRICS_DB_SCHEMA": f"bench_m_{self.name}",
            "METRICS_CONSUMER_GROUP": f"bench-metrics-{self.name}",
            "METRICS_TICKETING_URL": f"http://127.0.0.1:{self.ports['ticketing']}",
            **self.extra_env,
        }

    def url(self, service: str) -> str:
        """The base HTTP URL of ``service``."""
        return f"http://127.0.0.1:{self.ports[service]}"

    async def topics(self, partitions: int = 6) -> None:
        """Create this stack's topic and DLQ."""
        await create_topics(self.topic, partitions=partitions)
        await create_topics(self.dlq, partitions=1)

    async def seed(self, halls: dict[str, str]) -> None:
        """Migrate ticketing's schema and seed hall files ``{branch: yaml}``."""
        files = []
        for branch, text in halls.items():
            path = self.workdir / f"{branch}.yaml"
            path.write_text(text)
            files.append(str(path))
        await run_checked(self.env, "-m", "services.ticketing", "migrate")
        for i in range(0, len(files), 25):
            await run_checked(self.env, "-m", "services.ticketing", "seed", *files[i : i + 25])

    async def start(self, *services: str, within: float = 120.0) -> float:
        """Start ``services`` and wait until each is ready; the monotonic time they were started."""
        started = time.monotonic()
        for service in services:
            log = (self.workdir / f"{service}.log").open("ab")
            self.procs[service] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", f"services.{service}", env=self.env, stdout=log, stderr=log
            )
            log.close()
        async with aiohttp.ClientSession() as http:
            for service in services:
                ready = asyncio.create_task(wait_ready(http, self.ports[service], within))
                exited = asyncio.create_task(self.procs[service].wait())
                await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
                if not ready.done():
                    ready.cancel()
                    log = (self.workdir / f"{service}.log").read_text()[-2000:]
                    raise RuntimeError(f"{service} exited during start-up: {log}")
                exited.cancel()
                ready.result()
        return started

    def pid(self, service: str) -> int:
        """The process id of a started service."""
        return self.procs[service].pid

    async def stop(self, *services: str) -> None:
        """SIGTERM ``services`` (default: all) and wait; SIGKILL after 20 s."""
        for service in services or tuple(self.procs):
            proc = self.procs.pop(service, None)
            if proc is None or proc.returncode is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()

    async def close(self) -> None:
        """Stop everything and remove the topics and schemas."""
        await self.stop()
        await delete_topics([self.topic, self.dlq])
        await drop_schemas([f"bench_t_{self.name}", f"bench_m_{self.name}"])


class Admin:
    """An HTTP client logged in to ticketing as the bench admin."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base
        self.headers: dict[str, str] = {}

    async def login(self) -> None:
        """Log in as the admin the stack's migration created."""
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        async with self.http.post(f"{self.base}/api/v1/auth/login", json=body) as resp:
            if resp.status != 200:
                raise RuntimeError(f"login: {resp.status} {await resp.text()}")
            self.headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}

    async def post(self, path: str, body: object = None) -> tuple[int, Any]:
        """POST ``path``; ``(status, JSON body or None)``."""
        async with self.http.post(self.base + path, json=body, headers=self.headers) as resp:
            raw = await resp.read()
            return resp.status, (json.loads(raw) if raw and resp.content_type.endswith("json") else None)

    async def issue(self, branch: str, service: str) -> dict[str, Any]:
        """Issue one kiosk ticket."""
        status, body = await self.post(
            f"/api/v1/branches/{branch}/tickets", {"service_id": service, "channel": "kiosk"}
        )
        if status != 201:
            raise RuntimeError(f"issue: {status} {body}")
        return dict(body)
