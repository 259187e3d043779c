"""Tickets per second: over HTTP, beside raw asyncpg doing the same writes, and end to end.

Starts ticketing, display and metrics as subprocesses (private topic and
schemas). For each number of concurrent clients it issues ``tickets`` kiosk
tickets over HTTP (``POST /api/v1/branches/{id}/tickets``) and then waits
until every one of their ``ticket.issued`` events is acknowledged by Kafka
(ticketing's ``qms_outbox_published``), folded by the display
(``qms_display_events_processed``) and by metrics
(``qms_events_processed_total``): the end-to-end rate counts from the first
request to the last of those. The floor is the same writes straight through
asyncpg with as many connections, in a second schema migrated by ticketing
itself (no relay on it): one transaction taking the day's next number
(upsert), inserting the ticket row and the outbox row of an event's size.
A second floor calls ticketing's own one-statement issue (``issue_ticket``,
migration 011: it also places the ticket in its queue and estimates its wait)
straight through asyncpg, so the HTTP path's overhead over its own design shows
as ``ratio_one_statement``.

    python -m bench.ticketing [--clients 8 32 128] [--tickets 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from bench.harness import (
    DSN,
    CpuMeter,
    Stack,
    drop_schemas,
    metric_sum,
    run_checked,
    scrape,
    simple_hall,
    summary_ms,
    tag,
)

SERVICES = 10
# One address issues every ticket here: the abuse limits (a burst of 10, then one per
# 6 s per address, and a tenth of a service's quota) would refuse nearly all of them.
LOAD_TEST_ENV = {"TICKETING_RATE_LIMITS": "off"}


async def issue_http(base: str, branch: str, tickets: int, clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=clients + 4)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def client(jobs: range) -> None:
            for i in jobs:
                body = {"service_id": f"{branch}-s{i % SERVICES}", "channel": "kiosk"}
                started = time.perf_counter()
                async with http.post(f"{base}/api/v1/branches/{branch}/tickets", json=body) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client(range(c, tickets, clients)) for c in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "per_second": tickets / elapsed,
        "latency_ms": summary_ms(latencies),
        "statuses": statuses,
    }


def _event(branch: str, service: str, number: str, ticket: uuid.UUID, now: datetime) -> str:
    """An outbox row's event of the size ticketing writes for a ticket.issued."""
    data = {
        "ticket_id": str(ticket),
        "number": number,
        "branch_id": branch,
        "business_date": now.date().isoformat(),
        "service_id": service,
        "service_name": "Layanan",
        "agency_id": f"{branch}-agency",
        "agency_name": "Disdukcapil",
        "counter_id": None,
        "counter_name": None,
        "zone": None,
        "priority": False,
        "priority_group": None,
        "channel": "kiosk",
        "issued_at": now.isoformat(),
        "status": "waiting",
        "position": 1,
        "estimated_wait_seconds": 300,
        "target_wait_seconds": 900,
    }
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/ticketing",
        "type": "ticket.issued",
        "subject": str(ticket),
        "time": now.isoformat(),
        "datacontenttype": "application/json",
        "branchid": branch,
        "data": data,
    }
    return json.dumps(event, ensure_ascii=False)


Writer = Callable[[asyncpg.Connection, int], Awaitable[None]]

# Ticketing's own issuing statement (migration 011): version check, number, queue place,
# estimate, ticket row and outbox row in one round trip.
_ONE_STATEMENT = (
    "SELECT * FROM issue_ticket($1, $2, $3, $4, $5, 999, $6, $7, false, NULL, 'kiosk', 20,"
    " NULL, NULL, NULL, $8)"
)


async def _raw(
    schema: str, tickets: int, clients: int, writer: Callable[[asyncpg.Pool], Awaitable[Writer]]
) -> dict[str, Any]:
    """``tickets`` written by ``writer`` straight through asyncpg with ``clients`` connections."""
    pool = await asyncpg.create_pool(
        DSN, min_size=clients, max_size=clients, server_settings={"search_path": schema}
    )
    latencies: list[float] = []
    try:
        write = await writer(pool)

        async def client(jobs: range) -> None:
            async with pool.acquire() as conn:
                for i in jobs:
                    started = time.perf_counter()
                    await write(conn, i)
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client(range(c, tickets, clients)) for c in range(clients)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    return {"seconds": elapsed, "per_second": tickets / elapsed, "latency_ms": summary_ms(latencies)}


def transaction_writer(branch: str) -> Callable[[asyncpg.Pool], Awaitable[Writer]]:
    """The floor: the same writes as a straightforward issue, one statement each in one transaction."""

    async def make(_pool: asyncpg.Pool) -> Writer:
        async def write(conn: asyncpg.Connection, i: int) -> None:
            service = f"{branch}-s{i % SERVICES}"
            now = datetime.now(UTC)
            ticket = uuid.uuid4()
            async with conn.transaction():
                n = await conn.fetchval(
                    "INSERT INTO daily_numbers AS d (service_id, business_date, last_number)"
                    " VALUES ($1, $2, 1) ON CONFLICT (service_id, business_date)"
                    " DO UPDATE SET last_number = d.last_number + 1 RETURNING last_number",
                    service,
                    now.date(),
                )
                number = f"{'ABCDEFGHJK'[i % SERVICES]}{n:03d}"
                await conn.execute(
                    "INSERT INTO tickets (id, branch_id, service_id, issued_service_id, number,"
                    " business_date, priority, priority_group, channel, status, issued_at, queued_at,"
                    " estimated_wait_seconds) VALUES ($1, $2, $3, $3, $4, $5, false, NULL, 'kiosk',"
                    " 'waiting', $6, $6, 300)",
                    ticket,
                    branch,
                    service,
                    number,
                    now.date(),
                    now,
                )
                await conn.execute(
                    "INSERT INTO outbox (branch_id, event_id, event_type, event)"
                    " VALUES ($1, $2, 'ticket.issued', $3::jsonb)",
                    branch,
                    str(uuid.uuid4()),
                    _event(branch, service, number, ticket, now),
                )

        return write

    return make


def statement_writer(branch: str) -> Callable[[asyncpg.Pool], Awaitable[Writer]]:
    """The floor of ticketing's design: its one issuing statement (which also places the ticket
    in its queue and estimates its wait), called straight through asyncpg."""

    async def make(pool: asyncpg.Pool) -> Writer:
        services = [f"{branch}-s{k}" for k in range(SERVICES)]
        versions = {s: await pool.fetchval("SELECT issuing_version($1)", s) for s in services}

        async def write(conn: asyncpg.Connection, i: int) -> None:
            service = services[i % SERVICES]
            now = datetime.now(UTC)
            ticket = uuid.uuid4()
            prefix = "ABCDEFGHJK"[i % SERVICES]
            event = _event(branch, service, f"{prefix}001", ticket, now)
            row = await conn.fetchrow(
                _ONE_STATEMENT, ticket, branch, service, versions[service], prefix, now, now.date(), event
            )
            assert row["outcome"] == "issued", row

        return write

    return make


def _cpu(result: dict[str, Any], meter: CpuMeter, tickets: int) -> None:
    """Add the CPU milliseconds per ticket of ticketing, the load generator and the whole machine."""
    result["cpu_ms_per_ticket"] = {
        name: cores * result["seconds"] * 1000 / tickets for name, cores in meter.shares().items()
    }


async def _counts(http: aiohttp.ClientSession, stack: Stack) -> dict[str, float]:
    t = await scrape(http, stack.ports["ticketing"])
    d = await scrape(http, stack.ports["display"])
    m = await scrape(http, stack.ports["metrics"])
    return {
        "kafka": metric_sum(t, "qms_outbox_published_total") or metric_sum(t, "qms_outbox_published"),
        "display": metric_sum(d, "qms_display_events_processed_total", '"ticket.issued"')
        or metric_sum(d, "qms_display_events_processed", '"ticket.issued"'),
        "metrics": metric_sum(m, "qms_events_processed_total", '"ticket.issued"'),
    }


async def _until_folded(stack: Stack, base: dict[str, float], tickets: int, t0: float) -> dict[str, float]:
    """Seconds from ``t0`` until Kafka, display and metrics each have every ticket's event."""
    done: dict[str, float] = {}
    async with aiohttp.ClientSession() as http, asyncio.timeout(600):
        while len(done) < 3:
            now = await _counts(http, stack)
            stamp = time.perf_counter() - t0
            for key, value in now.items():
                if key not in done and value - base[key] >= tickets:
                    done[key] = stamp
            await asyncio.sleep(0.05)
    return done


async def run(clients: list[int], tickets: int) -> dict[str, Any]:
    """Issue ``tickets`` at each concurrency over HTTP and raw, and time the events through."""
    stack = Stack(extra_env=LOAD_TEST_ENV)
    branch = stack.name
    raw_schema = f"bench_raw_{tag()}"
    try:
        await stack.topics()
        # One branch per concurrency: a service's daily quota is at most 999.
        names = [f"{branch}-{c}{one}" for c in [0, *clients] for one in ("", "-1")]
        halls = {name: simple_hall(name, services=SERVICES) for name in names}
        await stack.seed(halls)
        raw_env = {**stack.env, "TICKETING_DB_SCHEMA": raw_schema}
        for name, text in halls.items():
            (stack.workdir / f"raw-{name}.yaml").write_text(text)
        await run_checked(
            raw_env,
            "-m",
            "services.ticketing",
            "seed",
            *(str(stack.workdir / f"raw-{n}.yaml") for n in halls),
        )
        await stack.start("ticketing", "display", "metrics")
        await issue_http(stack.url("ticketing"), f"{branch}-0", 50, 4)  # warm-up
        await _raw(raw_schema, 50, 4, transaction_writer(f"{branch}-0"))
        await _raw(raw_schema, 50, 4, statement_writer(f"{branch}-0-1"))
        pids = {"ticketing": stack.pid("ticketing"), "load generator": os.getpid()}
        rows = []
        async with aiohttp.ClientSession() as http:
            for c in clients:
                level = f"{branch}-{c}"
                await asyncio.sleep(1.0)
                base = await _counts(http, stack)
                t0 = time.perf_counter()
                meter = CpuMeter(pids)
                over_http = await issue_http(stack.url("ticketing"), level, tickets, c)
                _cpu(over_http, meter, tickets)
                if over_http["statuses"] != {201: tickets}:
                    raise RuntimeError(f"not every ticket was issued: {over_http['statuses']}")
                done = await _until_folded(stack, base, tickets, t0)
                meter = CpuMeter(pids)
                raw = await _raw(raw_schema, tickets, c, transaction_writer(level))
                _cpu(raw, meter, tickets)
                # The same number of tickets again through the one statement, on another branch.
                meter = CpuMeter(pids)
                one = await _raw(raw_schema, tickets, c, statement_writer(f"{level}-1"))
                _cpu(one, meter, tickets)
                end_to_end = max(done.values())
                row = {
                    "clients": c,
                    "tickets": tickets,
                    "http": over_http,
                    "raw": raw,
                    "ratio": over_http["per_second"] / raw["per_second"],
                    "raw_one_statement": one,
                    "ratio_one_statement": over_http["per_second"] / one["per_second"],
                    "until_seconds": done,
                    "end_to_end_per_second": tickets / end_to_end,
                }
                rows.append(row)
                print(
                    json.dumps(
                        {
                            k: row[k]
                            for k in ("clients", "ratio", "ratio_one_statement", "end_to_end_per_second")
                        }
                    ),
                    flush=True,
                )
        return {"levels": rows}
    finally:
        await stack.close()
        await drop_schemas([raw_schema])


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--tickets", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.clients, args.tickets)), indent=2))


if __name__ == "__main__":
    main()
