"""Issue 11 #4: restarting the real PostgreSQL under load gives 2xx, 4xx or 503 with Retry-After, never 500.

Ticketing, metrics and display (built by their real factories) are loaded by
a few clients each while PostgreSQL is restarted with ``pg_ctl restart -m
fast``. Every answer must be 2xx, 4xx or 503 carrying ``Retry-After`` and
come within the client's timeout (no hang), at least one 503 must be seen
(the fault really happened), and each service answers 2xx again afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from services.display.app import init_app as display_app
from services.display.server import start
from tests.conftest import SchemaFactory, TopicFactory
from tests.faults.conftest import start_metrics, start_ticketing, wait_until
from tests.integration.display.hallkit import display_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
PG_DATA = ROOT / ".run" / "pg" / "data"
PG_PID = ROOT / ".run" / "pids" / "postgres.pid"


def _pg_ctl() -> list[str]:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not bins or not (PG_DATA / "PG_VERSION").exists():
        pytest.skip("no PostgreSQL cluster of deploy/local/stack.sh in .run/pg to restart")
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 and shutil.which("runuser") else []
    return [*as_owner, str(bins[-1])]


async def _restart_postgres() -> None:
    process = await asyncio.create_subprocess_exec(
        *_pg_ctl(), "-D", str(PG_DATA), "-m", "fast", "-w", "-t", "60", "restart",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    # stack.sh stops what its pid file names: keep it pointing at the new postmaster.
    pid = (PG_DATA / "postmaster.pid").read_text().splitlines()[0]
    PG_PID.write_text(pid + "\n")


async def _load(
    session: aiohttp.ClientSession, urls: list[str], seen: Counter[str], stop: asyncio.Event
) -> None:
    """Request ``urls`` in turn until ``stop``; record every answer, and fail on a 500 or a bad 503."""
    while not stop.is_set():
        for url in urls:
            async with session.get(url) as response:
                await response.read()
                status = response.status
                assert status < 500 or status == 503, f"{url} answered {status}"
                if status == 503:
                    assert response.headers.get("Retry-After"), f"{url}: 503 without Retry-After"
                seen[f"{status // 100}xx" if status != 503 else "503"] += 1
        await asyncio.sleep(0.02)


async def _ok(session: aiohttp.ClientSession, url: str) -> bool:
    async with session.get(url) as response:
        return response.status < 300


async def test_a_postgresql_restart_under_load_is_answered_503_with_retry_after(
    database_url: str,
    kafka_bootstrap: str,
    new_schema: SchemaFactory,
    new_topic: TopicFactory,
    tmp_path: Path,
) -> None:
    _pg_ctl()  # skip early when there is no cluster to restart
    ticketing, branch = await start_ticketing(database_url, await new_schema())
    topic = await new_topic(partitions=1)
    metrics = await start_metrics(kafka_bootstrap, database_url, topic, topic + ".dlq", await new_schema())
    display = await start(
        display_app(display_settings(kafka_bootstrap, topic, topic + ".dlq", tmp_path)), "127.0.0.1", 0
    )
    t, m = ticketing.make_url(""), metrics.make_url("")
    d = f"http://127.0.0.1:{display.port}"
    urls = {
        "ticketing": [f"{t}/api/v1/branches/{branch}", f"{t}/api/v1/branches/{branch}/queue", f"{t}/readyz"],
        "metrics": [f"{m}/api/v1/reports/daily?branch={branch}&date=2026-11-29", f"{m}/readyz"],
        "display": [f"{d}/healthz", f"{d}/api/v1/branches/{branch}/screen"],
    }
    seen: dict[str, Counter[str]] = {name: Counter() for name in urls}
    stop = asyncio.Event()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    try:
        loads = [
            asyncio.create_task(_load(session, service_urls, seen[name], stop))
            for name, service_urls in urls.items()
            for _ in range(3)
        ]
        await wait_until(lambda: _ok(session, urls["ticketing"][0]))
        await _restart_postgres()
        for name in ("ticketing", "metrics"):
            await wait_until(lambda name=name: _ok(session, urls[name][0]), within=90)
        stop.set()
        await asyncio.gather(*loads)
    finally:
        stop.set()
        await session.close()
        await display.close()
        await metrics.close()
        await ticketing.close()
    assert seen["ticketing"]["503"] + seen["metrics"]["503"] > 0, seen  # the restart was felt
    for name, counts in seen.items():
        assert counts["2xx"] > 0, (name, counts)
