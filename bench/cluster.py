"""Cluster benchmark: throughput and latency with one and with two instances of each service.

Runs against the local cluster (``make cluster-up``; ``make bench-cluster``
starts it when needed) and changes the number of instances with
``deploy/cluster/cluster.sh stop|start``, everything else staying the same
(three Kafka nodes, one PostgreSQL, HAProxy in front). Figures go to stdout
as JSON lines and feed docs/scaling.md.

* ticketing: ``--clients`` concurrent kiosks issue tickets through HAProxy
  for ``--seconds`` (across ``--branches`` branches, so several relays'
  per-branch locks can work in parallel) → tickets/s, p50/p99, and the
  issue → Kafka delay (the outbox relay) read back from the topic;
* display: ``--screens`` websocket screens on the display balancer, 30 calls
  → per-screen delivery latency from the counter's call-next answer;
* metrics: the consumer group stopped while ticketing builds a backlog, then
  started with one or two instances → events/s until it caught up.

    .venv/bin/python -m bench.cluster [--seconds 20] [--clients 16] [--screens 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from tests.cluster.cluster import Cluster, control
from tests.cluster.hall import Branch, HallLoad, login, seed_branch


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds (values in seconds)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def emit(**figures: Any) -> None:
    """One line of results."""
    print(json.dumps(figures), flush=True)


async def set_instances(cluster: Cluster, service: str, n: int) -> None:
    """Run exactly the first ``n`` instances of ``service``."""
    status = await control("status")
    running = {line.split(":")[0] for line in status.splitlines() if line.endswith(")")}
    for i, name in enumerate(cluster.instances(service), 1):
        if i <= n and name not in running:
            await control("start", name)
        elif i > n and name in running:
            await control("stop", name)
    if service == "ticketing":
        await asyncio.sleep(3)  # HAProxy's health check notices (inter 1 s, rise/fall 2)


async def issue_load(
    http: aiohttp.ClientSession,
    cluster: Cluster,
    token: str,
    branches: list[Branch],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """Kiosks issuing as fast as answers come back."""
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds

    async def kiosk(k: int) -> None:
        nonlocal errors
        branch = branches[k % len(branches)]
        n = 0
        while time.monotonic() < end:
            n += 1
            body = {
                "service_id": branch.services[n % len(branch.services)],
                "channel": "kiosk",
                "priority": False,
            }
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
            start = time.monotonic()
            try:
                async with http.post(
                    f"{cluster.lb}/api/v1/branches/{branch.id}/tickets", json=body, headers=headers
                ) as r:
                    await r.read()
                    if r.status == 201:
                        latencies.append(time.monotonic() - start)
                    else:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1

    began = time.monotonic()
    await asyncio.gather(*(kiosk(k) for k in range(clients)))
    took = time.monotonic() - began
    return {
        "issued": len(latencies),
        "errors": errors,
        "tickets_per_s": round(len(latencies) / took, 1),
        "p50_ms": pct(latencies, 0.5),
        "p99_ms": pct(latencies, 0.99),
    }


async def relay_delay(pool: asyncpg.Pool, since: float) -> dict[str, Any]:
    """Wait for the outbox to drain; the commit → Kafka-acknowledged delay of the rows since ``since``."""
    deadline = time.monotonic() + 300
    while await pool.fetchval("SELECT count(*) FROM ticketing.outbox WHERE published_at IS NULL"):
        if time.monotonic() > deadline:
            raise SystemExit("the outbox did not drain in 5 minutes")
        await asyncio.sleep(0.5)
    rows = await pool.fetch(
        "SELECT extract(epoch FROM published_at - created_at)::float8 AS d FROM ticketing.outbox"
        " WHERE created_at > to_timestamp($1)",
        since,
    )
    delays = [r["d"] for r in rows]
    return {"relay_p50_ms": pct(delays, 0.5), "relay_p99_ms": pct(delays, 0.99), "events": len(delays)}


async def processed(http: aiohttp.ClientSession, url: str) -> float | None:
    """``qms_events_processed_total`` of one metrics instance (all types), or None when it does not answer."""
    try:
        async with http.get(f"{url}/metrics") as resp:
            text = await resp.text()
    except aiohttp.ClientError:
        return None
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "qms_events_processed_total"
    )


async def settled_total(http: aiohttp.ClientSession, cluster: Cluster) -> float:
    """The stored processed-events total once it stops moving (metrics has caught up)."""
    url = cluster.instance_url("metrics", 1)
    last = -1.0
    while True:
        now = (await processed(http, url)) or 0.0
        if now == last:
            return now
        last = now
        await asyncio.sleep(2)


async def metrics_drain(
    http: aiohttp.ClientSession, cluster: Cluster, instances: int, backlog: int, base: float
) -> dict[str, Any]:
    """Start ``instances`` metrics instances on a backlog; events/s until the stored total reaches it."""
    start = time.monotonic()
    await asyncio.gather(*(control("start", name) for name in cluster.instances("metrics")[:instances]))
    ready = time.monotonic() - start
    url = cluster.instance_url("metrics", 1)
    while ((await processed(http, url)) or 0) < base + backlog:
        if time.monotonic() - start > 600:
            raise SystemExit("metrics did not catch up in 10 minutes")
        await asyncio.sleep(0.2)
    took = time.monotonic() - start
    return {
        "metrics_instances": instances,
        "backlog_events": backlog,
        "drain_s": round(took, 1),
        "start_to_ready_s": round(ready, 1),
        "events_per_s": round(backlog / took, 1),
        "events_per_s_after_ready": round(backlog / max(took - ready, 0.1), 1),
    }


async def display_fanout(
    http: aiohttp.ClientSession, cluster: Cluster, token: str, branch: Branch, screens: int, calls: int
) -> dict[str, Any]:
    """``screens`` screens on the balancer; latency of each call to each screen."""
    arrivals: dict[str, list[float]] = {}
    ready = asyncio.Event()
    connected = 0
    stop = asyncio.Event()
    url = cluster.display_lb.replace("http://", "ws://") + f"/ws/{branch.id}"

    async def screen() -> None:
        nonlocal connected
        async with connect(url, open_timeout=30, max_queue=None) as ws:
            await ws.recv()  # the snapshot
            connected += 1
            if connected == screens:
                ready.set()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                msg = json.loads(raw)
                if msg.get("type") == "ticket.called":
                    arrivals.setdefault(msg["number"], []).append(time.monotonic())

    tasks = [asyncio.create_task(screen()) for _ in range(screens)]
    await asyncio.wait_for(ready.wait(), 120)
    load = HallLoad(http, cluster.lb, branch, token)
    await load.open_counters()
    called: dict[str, float] = {}
    counter = f"/api/v1/counters/{branch.counters[0]}"
    for n in range(calls):
        await load.request(
            "issue",
            f"/api/v1/branches/{branch.id}/tickets",
            {"service_id": branch.services[n % 3], "channel": "kiosk"},
        )
        _, ticket = await load.request("call-next", f"{counter}/call-next", {})
        called[ticket["number"]] = time.monotonic()
        await load.request("start", f"{counter}/start", {})
        await load.request("complete", f"{counter}/complete", {})
        await asyncio.sleep(0.2)
    await asyncio.sleep(3)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    delays = [at - called[number] for number, ats in arrivals.items() if number in called for at in ats]
    return {
        "screens": screens,
        "deliveries": len(delays),
        "expected": screens * calls,
        "p50_ms": pct(delays, 0.5),
        "p99_ms": pct(delays, 0.99),
        "max_ms": round(1000 * max(delays), 1) if delays else None,
    }


async def main(args: argparse.Namespace) -> None:
    cluster = Cluster.load()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    branches = [await asyncio.to_thread(seed_branch, cluster, tmp, "bc") for _ in range(args.branches)]
    pool = await asyncpg.create_pool(cluster.database_url, min_size=1, max_size=2)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        token = await login(http, cluster.lb, cluster.admin_password)
        try:
            # Ticketing 2 then 1 instance, with the metrics group stopped: each run leaves a backlog.
            base = await settled_total(http, cluster)
            await set_instances(cluster, "metrics", 0)
            backlog = 0
            for instances in (2, 1):
                await set_instances(cluster, "ticketing", instances)
                since = time.time()
                figures = await issue_load(http, cluster, token, branches, args.clients, args.seconds)
                figures.update(await relay_delay(pool, since))
                emit(tier="ticketing", ticketing_instances=instances, clients=args.clients, **figures)
                backlog += figures["events"]
            await set_instances(cluster, "ticketing", 2)
            # Metrics: that backlog drained by one instance; a fresh one by two.
            emit(tier="metrics", **await metrics_drain(http, cluster, 1, backlog, base))
            base = await settled_total(http, cluster)
            await set_instances(cluster, "metrics", 0)
            since = time.time()
            await issue_load(http, cluster, token, branches, args.clients, args.seconds)
            backlog = (await relay_delay(pool, since))["events"]
            emit(tier="metrics", **await metrics_drain(http, cluster, 2, backlog, base))
            # Display: the same screens on one, then two instances.
            for instances in (1, 2):
                await set_instances(cluster, "display", instances)
                figures = await display_fanout(http, cluster, token, branches[0], args.screens, args.calls)
                emit(tier="display", display_instances=instances, **figures)
        finally:
            for service in ("ticketing", "display", "metrics"):
                await set_instances(cluster, service, len(cluster.instances(service)))
            await pool.close()


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--branches", type=int, default=8)
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--calls", type=int, default=30)
    emit(load_average=Path("/proc/loadavg").read_text().split()[:3], cores=len(os.sched_getaffinity(0)))
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(cli())
