"""Replays: the display's rebuild of a business day after a restart, metrics catching up a backlog.

Simulated hall days (``python -m bench.simulate``, many branches, stamped
within the current business day) are produced onto a private topic until it
holds about the wanted number of events. Then:

* **display rebuild**: from the display's first log line to its "rebuilt" line
  (its own clock); without them, the time from starting ``python -m services.display``
  until its ``/readyz`` says the ``rebuild`` check is up, minus the same on an
  empty topic (start-up alone), measured in the same run;
* **metrics catch-up**: ``python -m services.metrics`` with a fresh consumer
  group reads the whole backlog; the rate is the events over the time from
  ready until its committed offsets reach the topic's end.

The floor of both is a bare aiokafka consumer reading the same records and
parsing their JSON.

    python -m bench.replay [--days 10000 100000] [--backlog 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from bench.harness import KAFKA, Stack, cpu_seconds, simulate, tag, topic_end, wait_ready

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
LOG_INFO = {"ANTRIAN_LOG_LEVEL": "INFO"}  # the display logs when its rebuild is done


def hours_today(now: datetime | None = None) -> float:
    """Hours of the current business day every Indonesian zone shares (what a rebuild reads)."""
    now = now or datetime.now(UTC)
    latest = max(
        datetime.combine(now.astimezone(ZoneInfo(z)).date(), datetime.min.time(), tzinfo=ZoneInfo(z))
        for z in ZONES
    )
    return (now - latest) / timedelta(hours=1)


async def fill(topic: str, events: int) -> int:
    """Produce simulated days onto ``topic`` until it holds about ``events``; how many it holds."""
    hours = max(0.2, min(8.0, hours_today() - 0.1))
    tickets, produced, batch = 300, 0, 0
    branches = 5
    while produced < events * 0.97:
        summary = await simulate(topic, f"r{tag()[:4]}{batch}", branches, tickets, hours)
        got = int(summary.get("events", 0))
        produced += got
        batch += 1
        per_branch = max(1.0, got / branches)
        branches = max(1, min(200, round((events - produced) / per_branch)))
    return await topic_end(topic)


async def bare_read(topic: str, events: int) -> float:
    """Seconds for a bare consumer to read ``events`` records of ``topic`` and parse them."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest")
    await consumer.start()
    try:
        started, seen = time.perf_counter(), 0
        while seen < events:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for record in records:
                    json.loads(record.value)
                seen += sum(len(r) for r in batch.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def logged_rebuild(log: Path) -> float | None:
    """Seconds from the display's first log line to its "rebuilt" line (its own clock), if it says so."""
    first = rebuilt = None
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            stamp = datetime.fromisoformat(entry["time"])
        except (ValueError, KeyError, TypeError):
            continue
        first = first or stamp
        if "rebuilt" in str(entry.get("message", "")):
            rebuilt = stamp
    return (rebuilt - first).total_seconds() if first and rebuilt else None


async def _rebuild_up(http: aiohttp.ClientSession, port: int) -> bool:
    with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
        async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
            body = await resp.json(content_type=None)
            return resp.status == 200 or body.get("checks", {}).get("rebuild") == "up"
    return False


async def wait_rebuilt(port: int, proc: asyncio.subprocess.Process, within: float = 900.0) -> None:
    """Wait until the display on ``port`` has rebuilt today's state: its ``rebuild`` check is up.

    Ticketing does not run in the replays, so the display's ``directory`` check never
    comes up (nobody can describe the simulated branches); the rebuild does not wait for it.
    """
    async with aiohttp.ClientSession() as http, asyncio.timeout(within):  # a long rebuild is a figure
        while not await _rebuild_up(http, port):
            if proc.returncode is not None:
                raise RuntimeError("the display exited during its rebuild")
            await asyncio.sleep(0.05)


async def _rebuilt_after_start(stack: Stack) -> float:
    """Seconds from starting the display until it has rebuilt today's state."""
    started = time.monotonic()
    log = (stack.workdir / "display.log").open("ab")
    proc = stack.procs["display"] = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.display", env=stack.env, stdout=log, stderr=log
    )
    log.close()
    await wait_rebuilt(stack.ports["display"], proc)
    return time.monotonic() - started


async def display_rebuild(days: list[int]) -> list[dict[str, Any]]:
    """Time the display's rebuild for a day of each size, beside start-up and a bare read."""
    empty = Stack(extra_env=LOG_INFO)
    rows = []
    try:
        await empty.topics()
        startup = await _rebuilt_after_start(empty)
    finally:
        await empty.close()
    for size in days:
        stack = Stack(extra_env=LOG_INFO)
        try:
            await stack.topics()
            held = await fill(stack.topic, size)
            ready = await _rebuilt_after_start(stack)
            floor = await bare_read(stack.topic, held)
            # The display's own log times the rebuild without the interpreter's start-up;
            # without such lines, start → ready less the same on an empty topic.
            logged = logged_rebuild(stack.workdir / "display.log")
            rebuild = logged if logged is not None else max(0.0, ready - startup)
            rows.append(
                {
                    "events": held,
                    "ready_seconds": ready,
                    "startup_seconds": startup,
                    "rebuild_seconds": rebuild,
                    "rebuild_from": "display log" if logged is not None else "start-up difference",
                    "floor_seconds": floor,
                    "events_per_second": held / rebuild if rebuild else None,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        finally:
            await stack.close()
    return rows


async def _committed(group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(max(0, o.offset) for tp, o in offsets.items() if tp.topic == topic)


async def metrics_catch_up(backlog: int) -> dict[str, Any]:
    """The metrics service's rate through a ``backlog`` of events waiting for a fresh group."""
    stack = Stack()
    try:
        await stack.topics()
        held = await fill(stack.topic, backlog)
        floor = await bare_read(stack.topic, held)
        group = stack.env["METRICS_CONSUMER_GROUP"]
        started = time.monotonic()
        await stack.start("metrics")
        ready, cpu_ready = time.monotonic(), cpu_seconds(stack.pid("metrics"))
        samples = []
        async with asyncio.timeout(900):
            while (done := await _committed(group, stack.topic)) < held:
                samples.append((time.monotonic() - ready, done))
                await asyncio.sleep(0.5)
        finished, cpu = time.monotonic(), cpu_seconds(stack.pid("metrics")) - cpu_ready
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, stack.ports["metrics"])
        seconds = finished - ready
        return {
            "events": held,
            "startup_seconds": ready - started,
            "catch_up_seconds": seconds,
            "events_per_second": held / seconds,
            "floor_seconds": floor,
            "floor_events_per_second": held / floor,
            # The service's own CPU per event does not swing with the machine's load as the rate does.
            "cpu_seconds": cpu,
            "cpu_us_per_event": cpu / held * 1e6,
            "progress": samples,
        }
    finally:
        await stack.close()


async def run(days: list[int], backlog: int) -> dict[str, Any]:
    """Both replays."""
    rebuild = await display_rebuild(days)
    catch_up = await metrics_catch_up(backlog)
    print(json.dumps({k: v for k, v in catch_up.items() if k != "progress"}), flush=True)
    return {"display_rebuild": rebuild, "metrics_catch_up": catch_up}


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backlog", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.days, args.backlog)), indent=2))


if __name__ == "__main__":
    main()
