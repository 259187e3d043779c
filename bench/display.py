"""Benchmark of the display: call → screen latency and memory per connected screen.

Starts ``python -m services.display`` as a subprocess on 127.0.0.1 with its own
events and DLQ topics, connects 1, 100 and 1,000 websocket screens (in this
process), and for each size produces ``--calls`` ``ticket.called`` events
one after another. Latency is measured per delivery: from just before the
event is handed to Kafka (the moment the ticketing outbox relay would publish
it) to the moment each screen's websocket client has the message, on this
process's monotonic clock. It covers Kafka, the display's consumer, the fold,
the fan-out and the loopback network; the client side of 1,000 screens runs
in this one Python process on the same 2 cores, so the 1,000 figure includes
queueing in the clients too; the "server mean" column is the display's own
``qms_display_event_lag_seconds`` (event time → written to every socket)
over the same calls, which excludes the clients. Memory per connection is the display process's
RSS growth divided by the number of screens once all are connected.

    cd /work/main && .venv/bin/python -m bench.display
    cd /work/main && .venv/bin/python -m bench.display --via-ticketing

With ``--via-ticketing`` the real ticketing service runs too (its own schema
on the real PostgreSQL), and each timed call is the counter's HTTP
``POST /api/v1/counters/{id}/call-next``: latency then runs from that HTTP
call through ticketing's transaction, its outbox relay, Kafka and the display
to every screen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.asyncio.client import ClientConnection, connect

from services.events import TicketCalled, encode, new_event

BRANCH = "bench-hall"
WITA = ZoneInfo("Asia/Makassar")


HALL = """
branch:
  id: {branch}
  name: MPP Bench
  timezone: Asia/Makassar
  hours: {{mon: "00:00-24:00", tue: "00:00-24:00", wed: "00:00-24:00", thu: "00:00-24:00",
          fri: "00:00-24:00", sat: "00:00-24:00", sun: "00:00-24:00"}}
  breaks: []
  holidays: []
  issuing_cutoff_minutes: 0
agencies:
  - id: {branch}-disdukcapil
    name: Disdukcapil
    services:
      - {{id: {branch}-ktp, name: Perekaman KTP-el, prefix: A, quota: 900, service_minutes: 6}}
counters:
  - {{id: {branch}-loket-1, name: Loket 1, zone: lantai-1, services: [{branch}-ktp]}}
users: []
"""
ADMIN_PASSWORD = "bench-" + uuid.uuid4().hex


class Ticketing:
    """The counter's side through the real ticketing service: issue, call-next, start, complete."""

    def __init__(self, http: aiohttp.ClientSession, base: str, branch: str) -> None:
        self.http, self.base, self.branch = http, base, branch
        self.counter = f"{branch}-loket-1"
        self.auth: dict[str, str] = {}
        self.waiting: list[str] = []

    async def post(self, path: str, body: object = None, expect: int = 200) -> dict[str, object]:
        async with self.http.post(self.base + path, json=body, headers=self.auth) as r:
            if r.status != expect:
                raise RuntimeError(f"POST {path}: {r.status} {await r.text()}")
            return await r.json() if r.content_length else {}

    async def prepare(self, tickets: int) -> None:
        login = await self.post("/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
        self.auth = {"Authorization": f"Bearer {login['token']}"}
        await self.post(f"/api/v1/counters/{self.counter}/open")
        for _ in range(tickets):
            body = {"service_id": f"{self.branch}-ktp", "channel": "kiosk", "priority": False}
            ticket = await self.post(f"/api/v1/branches/{self.branch}/tickets", body, expect=201)
            self.waiting.append(str(ticket["number"]))

    async def call(self) -> str:
        expected = self.waiting.pop(0)
        called = await self.post(f"/api/v1/counters/{self.counter}/call-next")
        if called["number"] != expected:
            raise RuntimeError(f"called {called['number']}, expected {expected}")
        return expected

    async def finish(self) -> None:
        await self.post(f"/api/v1/counters/{self.counter}/start")
        await self.post(f"/api/v1/counters/{self.counter}/complete")


async def run_checked(env: dict[str, str], *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed: {out.decode()[-2000:]}")


async def wait_ready(http: aiohttp.ClientSession, port: int) -> None:
    async with asyncio.timeout(60):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def called_event(seq: int, number: str, counter: int) -> bytes:
    now = datetime.now(UTC)
    data = TicketCalled(
        ticket_id=f"t-{uuid.uuid4().hex[:12]}",
        number=number,
        branch_id=BRANCH,
        timezone=WITA.key,
        business_date=now.astimezone(WITA).date(),
        service_id="ktp",
        service_name="KTP-el",
        agency_id="disdukcapil",
        agency_name="Disdukcapil",
        counter_id=f"c{counter}",
        counter_name=f"Loket {counter}",
        zone="lantai-1",
        priority=False,
        channel="kiosk",
        issued_at=now,
        status="called",
        called_at=now,
    )
    event = new_event(data, source="/ticketing", subject=data.ticket_id, time=now)
    return encode(event.with_sequence(seq))


class Round:
    """One call being timed across every screen."""

    def __init__(self, marker: str, expected: int, number: str) -> None:
        self.marker = marker
        self.number = f'"number":"{number}"'
        self.expected = expected
        self.started = time.perf_counter()
        self.latencies: list[float] = []
        self.done = asyncio.Event()

    def seen(self) -> None:
        self.latencies.append(time.perf_counter() - self.started)
        if len(self.latencies) >= self.expected:
            self.done.set()


class Screens:
    """Websocket screens that timestamp the message carrying the current round's marker."""

    def __init__(self) -> None:
        self.round: Round | None = None
        self.connections: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []

    async def add(self, url: str, count: int) -> None:
        sem = asyncio.Semaphore(50)

        async def one() -> None:
            async with sem:
                ws = await connect(url, proxy=None, compression=None, open_timeout=30, max_queue=64)
                await ws.recv()  # the snapshot
                self.connections.append(ws)
                self.readers.append(asyncio.create_task(self._read(ws)))

        await asyncio.gather(*(one() for _ in range(count)))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for message in ws:
                current = self.round
                if (
                    current is not None
                    and isinstance(message, str)
                    and current.marker in message
                    and current.number in message
                ):
                    current.seen()

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.connections), return_exceptions=True)
        self.connections.clear()
        self.readers.clear()


async def server_lag(http: aiohttp.ClientSession, port: int) -> tuple[float, float]:
    """(sum, count) of the display's own event-time → written-to-sockets histogram."""
    async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
        text = await r.text()
    values = {}
    for line in text.splitlines():
        if line.startswith("qms_display_event_lag_seconds_"):
            name, value = line.split(" ")
            values[name] = float(value)
    return values["qms_display_event_lag_seconds_sum"], values["qms_display_event_lag_seconds_count"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    topic, dlq = f"bench.display.{uuid.uuid4().hex[:8]}", f"bench.display.dlq.{uuid.uuid4().hex[:8]}"
    branch = f"bench-{uuid.uuid4().hex[:6]}" if args.via_ticketing else BRANCH
    schema = f"bench_display_{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 6, 1), NewTopic(dlq, 1, 1)])
    ports = {"display": free_port(), "ticketing": free_port()}
    workdir = Path(tempfile.mkdtemp(prefix="bench-display-"))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap,
        "DATABASE_URL": args.database_url,
        "DISPLAY_HOST": "127.0.0.1",
        "DISPLAY_PORT": str(ports["display"]),
        "TICKETING_HOST": "127.0.0.1",
        "TICKETING_PORT": str(ports["ticketing"]),
        "TICKETING_DB_SCHEMA": schema,
        "ANTRIAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ANTRIAN_EVENTS_TOPIC": topic,
        "ANTRIAN_DLQ_TOPIC": dlq,
        "DISPLAY_TICKETING_URL": f"http://127.0.0.1:{ports['ticketing'] if args.via_ticketing else 9}",
        "DISPLAY_AUDIO_CACHE": str(workdir / "audio"),
        "ANTRIAN_LOG_FORMAT": "json",
    }
    services = ["display"]
    if args.via_ticketing:
        (workdir / "hall.yaml").write_text(HALL.format(branch=branch))
        await run_checked(env, "-m", "services.ticketing", "migrate")
        await run_checked(env, "-m", "services.ticketing", "seed", str(workdir / "hall.yaml"))
        services.append("ticketing")
    procs: dict[str, asyncio.subprocess.Process] = {}
    for name in services:
        log = (workdir / f"{name}.log").open("wb")
        procs[name] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"services.{name}", env=env, stdout=log, stderr=log
        )
        log.close()
    pid = procs["display"].pid
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, linger_ms=0, acks=1)
    await producer.start()
    seq = 0
    stack = contextlib.AsyncExitStack()
    try:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        for name in services:
            await wait_ready(http, ports[name])
        url = f"ws://127.0.0.1:{ports['display']}/ws/{branch}"
        counter: Ticketing | None = None
        if args.via_ticketing:
            counter = Ticketing(http, f"http://127.0.0.1:{ports['ticketing']}", branch)
            await counter.prepare(args.calls * len(args.sizes) + 1)
            await counter.call()  # warm-up
            await counter.finish()
        else:
            seq += 1  # a warm-up call so that the branch exists and every code path is loaded
            await producer.send_and_wait(topic, called_event(seq, "Z000", 1), key=BRANCH.encode())
        await asyncio.sleep(1)
        origin = "the counter's HTTP call-next" if args.via_ticketing else "the event handed to Kafka"
        print(f"display pid {pid}; {args.calls} calls per size; latency from {origin} to each screen")
        print(
            "| screens | deliveries | p50 ms | p99 ms | max ms | server mean ms "
            "| RSS before MiB | RSS after MiB | KiB/conn |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for size in args.sizes:
            screens = Screens()
            await asyncio.sleep(0.5)
            before = rss_kib(pid)
            await screens.add(url, size)
            await asyncio.sleep(1.0)
            after = rss_kib(pid)
            latencies: list[float] = []
            lag_sum, lag_count = await server_lag(http, ports["display"])
            for i in range(args.calls):
                if counter is not None:
                    number = counter.waiting[0]
                    screens.round = current = Round('"type":"ticket.called","seq":', size, number)
                    current.started = time.perf_counter()
                    await counter.call()
                else:
                    seq += 1
                    number = f"Q{seq:04d}"
                    screens.round = current = Round(f'"number":"{number}"', size, number)
                    current.started = time.perf_counter()
                    event = called_event(seq, number, 1 + i % 8)
                    await producer.send_and_wait(topic, event, key=BRANCH.encode())
                async with asyncio.timeout(30):
                    await current.done.wait()
                latencies.extend(current.latencies)
                if counter is not None:
                    await counter.finish()
                await asyncio.sleep(args.gap)
            screens.round = None
            new_sum, new_count = await server_lag(http, ports["display"])
            server_mean = (new_sum - lag_sum) / max(1.0, new_count - lag_count)
            per_conn = (after - before) / size
            print(
                f"| {size} | {len(latencies)} | {pct(latencies, 0.5) * 1000:.1f} | "
                f"{pct(latencies, 0.99) * 1000:.1f} | {max(latencies) * 1000:.1f} | "
                f"{server_mean * 1000:.1f} | "
                f"{before / 1024:.1f} | {after / 1024:.1f} | {per_conn:.1f} |"
            )
            await screens.close()
        print(f"(mean of all deliveries at the largest size: {statistics.mean(latencies) * 1000:.1f} ms)")
    finally:
        await stack.aclose()
        await producer.stop()
        for proc in procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                async with asyncio.timeout(15):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        with contextlib.suppress(Exception):
            await admin.delete_topics([topic, dlq])
        await admin.close()
        if args.via_ticketing:
            conn = await asyncpg.connect(args.database_url)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--calls", type=int, default=40, help="timed calls per size")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql://antrian:antrian@127.0.0.1:5433/antrian"),
    )
    parser.add_argument("--via-ticketing", action="store_true", help="time the counter's HTTP call-next")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between calls")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
