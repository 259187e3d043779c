"""Several replicas started together on an empty database all become ready.

A Deployment with two replicas, or a rollout that starts new pods before the
migration Job ran, starts two processes at once against a schema nobody set
up. Each migrates at start-up; the migration runner must serialise them (an
advisory lock) so that neither fails on a half-created table and each
migration is applied exactly once.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.conftest import SchemaFactory, TopicFactory, unique_name
from tests.integration.conftest import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

REPLICAS = 2


async def _ready(http: aiohttp.ClientSession, port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    async with asyncio.timeout(90):
        while True:
            if proc.returncode is not None:
                output = await asyncio.to_thread(log.read_text, errors="replace")
                pytest.fail(f"a replica exited with {proc.returncode}:\n{output[-3000:]}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)


async def _start_together(service: str, env: dict[str, str], tmp: Path) -> None:
    """Start REPLICAS processes of ``service`` at once; wait for each to be ready; stop them."""
    ports = [free_port() for _ in range(REPLICAS)]
    logs = [tmp / f"{service}-{i}.log" for i in range(REPLICAS)]
    procs: list[asyncio.subprocess.Process] = []
    try:
        for port, log in zip(ports, logs, strict=True):
            out = open(log, "wb")  # noqa: SIM115, ASYNC230 - handed to the process
            replica_env = {
                **env,
                f"{service.upper()}_PORT": str(port),
                f"{service.upper()}_HOST": "127.0.0.1",
            }
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    f"services.{service}",
                    cwd=ROOT,
                    env=replica_env,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            )
            out.close()
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(
                *(_ready(http, p, pr, lg) for p, pr, lg in zip(ports, procs, logs, strict=True))
            )
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _applied(database_url: str, schema: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(f"SELECT version FROM {schema}.schema_migrations ORDER BY version")
    finally:
        await conn.close()
    return [r["version"] for r in rows]


def _migration_count(service: str) -> int:
    return len(list((ROOT / "services" / service / "migrations").glob("*.sql")))


@pytest.fixture
async def env(
    kafka_bootstrap: str,
    database_url: str,
    new_topic: TopicFactory,
    new_schema: SchemaFactory,
    tmp_path: Path,
) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": database_url,
        "ANTRIAN_EVENTS_TOPIC": await new_topic(partitions=3),
        "ANTRIAN_DLQ_TOPIC": await new_topic(partitions=1, prefix="test.dlq."),
        "ANTRIAN_ADMIN_PASSWORD": "both-" + unique_name(""),
        "ANTRIAN_LOG_FORMAT": "text",
        "TICKETING_DB_SCHEMA": await new_schema(),
        "METRICS_DB_SCHEMA": await new_schema(),
        "METRICS_CONSUMER_GROUP": unique_name("metrics-both-"),
        "DISPLAY_AUDIO_CACHE": str(tmp_path / "audio"),
    }


async def test_two_ticketing_processes_started_together_on_an_empty_database_both_become_ready(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    await _start_together("ticketing", env, tmp_path)
    schema = env["TICKETING_DB_SCHEMA"]
    # Each migration recorded once (the version is the table's primary key).
    assert len(await _applied(database_url, schema)) == _migration_count("ticketing")
    conn = await asyncpg.connect(database_url)
    try:
        admins = await conn.fetchval(f"SELECT count(*) FROM {schema}.users WHERE role = 'admin'")
    finally:
        await conn.close()
    assert admins == 1


async def test_two_metrics_processes_started_together_on_an_empty_database_both_become_ready(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    await _start_together("metrics", env, tmp_path)
    assert len(await _applied(database_url, env["METRICS_DB_SCHEMA"])) == _migration_count("metrics")
