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
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.asyncio.client import ClientConnection, connect

from services.events import EventType, encode, new_event

BRANCH = "bench-hall"
WITA = ZoneInfo("Asia/Makassar")


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
    data = {
        "ticket_id": f"t-{uuid.uuid4().hex[:12]}",
        "number": number,
        "branch_id": BRANCH,
        "business_date": datetime.now(WITA).date().isoformat(),
        "service_id": "ktp",
        "service_name": "KTP-el",
        "agency_id": "disdukcapil",
        "agency_name": "Disdukcapil",
        "counter_id": f"c{counter}",
        "counter_name": f"Loket {counter}",
        "zone": "lantai-1",
        "priority": False,
        "priority_group": None,
        "channel": "kiosk",
        "issued_at": datetime.now(UTC).isoformat(),
        "status": "called",
        "called_at": datetime.now(UTC).isoformat(),
        "operator": None,
        "forced": False,
    }
    event = new_event(
        EventType.TICKET_CALLED,
        source="/ticketing",
        subject=data["ticket_id"],
        branch_id=BRANCH,
        data=data,
        time=datetime.now(UTC),
    )
    return encode(event.with_sequence(seq))


class Round:
    """One call being timed across every screen."""

    def __init__(self, marker: str, expected: int) -> None:
        self.marker = marker
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
                if current is not None and isinstance(message, str) and current.marker in message:
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
    admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 6, 1), NewTopic(dlq, 1, 1)])
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-display-"))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap,
        "DISPLAY_HOST": "127.0.0.1",
        "DISPLAY_PORT": str(port),
        "ANTRIAN_EVENTS_TOPIC": topic,
        "ANTRIAN_DLQ_TOPIC": dlq,
        "DISPLAY_TICKETING_URL": "http://127.0.0.1:9",
        "DISPLAY_AUDIO_CACHE": str(workdir / "audio"),
        "ANTRIAN_LOG_FORMAT": "json",
    }
    log = (workdir / "display.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.display", env=env, stdout=log, stderr=log
    )
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, linger_ms=0, acks=1)
    await producer.start()
    seq = 0
    stack = contextlib.AsyncExitStack()
    try:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        async with asyncio.timeout(60):
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.2)
        url = f"ws://127.0.0.1:{port}/ws/{BRANCH}"
        # A warm-up call so that the branch exists and every code path is loaded.
        seq += 1
        await producer.send_and_wait(topic, called_event(seq, "Z000", 1), key=BRANCH.encode())
        await asyncio.sleep(1)
        print(f"display pid {proc.pid} on port {port}; topic {topic}; {args.calls} calls per size")
        print(
            "| screens | deliveries | p50 ms | p99 ms | max ms | server mean ms "
            "| RSS before MiB | RSS after MiB | KiB/conn |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for size in args.sizes:
            screens = Screens()
            await asyncio.sleep(0.5)
            before = rss_kib(proc.pid)
            await screens.add(url, size)
            await asyncio.sleep(1.0)
            after = rss_kib(proc.pid)
            latencies: list[float] = []
            lag_sum, lag_count = await server_lag(http, port)
            for i in range(args.calls):
                seq += 1
                number = f"Q{seq:04d}"
                screens.round = current = Round(f'"number":"{number}"', size)
                current.started = time.perf_counter()
                await producer.send_and_wait(topic, called_event(seq, number, 1 + i % 8), key=BRANCH.encode())
                async with asyncio.timeout(30):
                    await current.done.wait()
                latencies.extend(current.latencies)
                await asyncio.sleep(args.gap)
            screens.round = None
            new_sum, new_count = await server_lag(http, port)
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
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(15):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()
        with contextlib.suppress(Exception):
            await admin.delete_topics([topic, dlq])
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--calls", type=int, default=40, help="timed calls per size")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between calls")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
