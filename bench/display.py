"""Call → screen: a counter's HTTP call-next until every hall screen shows it, beside its floor.

Starts ticketing and display as subprocesses (private topic and schema), one
hall with one counter, and for each number of screens connects them (in
worker processes, see ``bench.screens``) and times ``calls`` call-nexts from
just before the HTTP request to the moment each screen has the message. The
floor, measured in the same run: an HTTP round trip to ticketing, a
PostgreSQL commit of a call's writes, a bare aiokafka round trip with
``acks=all`` and a bare ``websockets.broadcast`` to as many screens.
Memory per screen is the display's RSS growth divided by the screens; the
CPU each process used while timing is reported too (the load generator's
share included).

    python -m bench.display [--screens 1 100 1000 10000] [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import aiohttp

from bench import floors
from bench.harness import (
    Admin,
    CpuMeter,
    Stack,
    metric_sum,
    raise_nofile,
    rss_kib,
    scrape,
    simple_hall,
    summary_ms,
)
from bench.screens import Fleet

FLOOR_SAMPLES = 100
ALL_FROM_HERE = {"DISPLAY_MAX_CONNECTIONS": "20000", "DISPLAY_MAX_CONNECTIONS_PER_ADDRESS": "20000"}
"""Every screen connects from this machine's one address: the display's caps must let them all in."""


async def _floor_parts(stack: Stack) -> dict[str, list[float]]:
    return {
        "http": await floors.http_round_trip(stack.url("ticketing"), FLOOR_SAMPLES),
        "pg": await floors.pg_commit(FLOOR_SAMPLES),
        "kafka": await floors.kafka_round_trip(FLOOR_SAMPLES),
    }


async def _call_round(fleet: Fleet, admin: Admin, counter: str, number: str) -> list[float]:
    """Call ``number``: seconds until each screen has it. Then start and complete it and wait
    until every screen has the completion too, so that the next call is not timed while the
    display still fans this round's later messages out (at 10,000 screens each takes a while)."""
    await fleet.expect('"ticket.called"', f'"{number}"')
    started = time.monotonic()
    status, body = await admin.post(f"{counter}/call-next")
    if status != 200 or body["number"] != number:
        raise RuntimeError(f"call-next: {status} {body} (expected {number})")
    latencies = [t - started for t in await fleet.seen(within=120)]
    for action in ("start", "complete"):
        if action == "complete":
            await fleet.expect('"ticket.completed"', f'"{number}"')
        status, body = await admin.post(f"{counter}/{action}")
        if status != 200:
            raise RuntimeError(f"{action}: {status} {body}")
    await fleet.seen(within=120)
    return latencies


async def _size(
    stack: Stack,
    admin: Admin,
    http: aiohttp.ClientSession,
    waiting: list[str],
    size: int,
    calls: int,
    gap: float,
) -> dict[str, Any]:
    counter = f"/api/v1/counters/{stack.name}-loket-1"
    pid = stack.pid("display")
    before = rss_kib(pid)
    connect_started = time.monotonic()
    async with Fleet(f"ws://127.0.0.1:{stack.ports['display']}/ws/{stack.name}", size) as fleet:
        connect_s = time.monotonic() - connect_started
        await asyncio.sleep(1.0)
        after = rss_kib(pid)
        lag0 = await scrape(http, stack.ports["display"])
        pids = {"display": pid, "ticketing": stack.pid("ticketing")}
        pids |= {f"screens{i}": p for i, p in enumerate(fleet.pids)}
        pids["bench"] = __import__("os").getpid()
        meter = CpuMeter(pids)
        latencies: list[float] = []
        for _ in range(calls):
            latencies.extend(await _call_round(fleet, admin, counter, waiting.pop(0)))
            await asyncio.sleep(gap)
        shares = meter.shares()
        lag1 = await scrape(http, stack.ports["display"])
    name = "qms_display_event_lag_seconds"
    lag_n = metric_sum(lag1, name + "_count") - metric_sum(lag0, name + "_count")
    lag_s = metric_sum(lag1, name + "_sum") - metric_sum(lag0, name + "_sum")
    generator = sum(v for k, v in shares.items() if k.startswith("screens") or k == "bench")
    return {
        "screens": size,
        "calls": calls,
        "latency_ms": summary_ms(latencies),
        "server_event_lag_mean_ms": 1000 * lag_s / lag_n if lag_n else None,
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "kib_per_screen": (after - before) / size,
        "connect_seconds": connect_s,
        "cpu_cores": shares,
        "load_generator_share": generator / shares["machine"] if shares["machine"] else None,
    }


async def run(screens: list[int], calls: int, gap: float, floor_calls: int) -> dict[str, Any]:
    """Measure call → screen at each number of screens, with the floors."""
    raise_nofile()
    stack = Stack(extra_env=ALL_FROM_HERE)
    branch = stack.name
    try:
        await stack.topics()
        await stack.seed({branch: simple_hall(branch)})
        await stack.start("ticketing", "display")
        async with aiohttp.ClientSession() as http:
            admin = Admin(http, stack.url("ticketing"))
            await admin.login()
            status, body = await admin.post(f"/api/v1/counters/{branch}-loket-1/open")
            if status != 200:
                raise RuntimeError(f"open: {status} {body}")
            waiting = [
                (await admin.issue(branch, f"{branch}-s0"))["number"] for _ in range(calls * len(screens) + 2)
            ]
            await _size(stack, admin, http, waiting, 1, 2, 0.05)  # warm-up: every code path loaded
            parts = await _floor_parts(stack)
            rows = []
            for size in screens:
                try:
                    row = await _size(stack, admin, http, waiting, size, calls, gap)
                except (RuntimeError, OSError, TimeoutError) as exc:  # keep the sizes measured so far
                    print(f"{size} screens: {exc!r}", flush=True)
                    break
                print(json.dumps({"screens": size, "latency_ms": row["latency_ms"]}), flush=True)
                try:
                    ws = summary_ms(await floors.ws_broadcast(size, floor_calls))
                except (RuntimeError, OSError, TimeoutError) as exc:
                    print(f"bare broadcast to {size} screens: {exc!r}", flush=True)
                    ws = summary_ms([])
                row["floor_ms"] = {**{k: summary_ms(v) for k, v in parts.items()}, "websockets": ws}
                rows.append(row)
        return {"floor_parts_ms": {k: summary_ms(v) for k, v in parts.items()}, "sizes": rows}
    finally:
        await stack.close()


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--screens", type=int, nargs="+", default=[1, 100, 1000, 10000])
    parser.add_argument("--calls", type=int, default=30, help="timed calls per number of screens")
    parser.add_argument("--floor-calls", type=int, default=15, help="bare broadcasts per number of screens")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between calls")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.screens, args.calls, args.gap, args.floor_calls)), indent=2))


if __name__ == "__main__":
    main()
