"""Replicas starting together on an empty database all become ready (the advisory lock of migrations)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from services.metrics.migrate import migrate as migrate_metrics
from services.ticketing.migrate import MIGRATIONS as TICKETING_MIGRATIONS
from tests.conftest import SchemaFactory
from tests.faults.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _ready(session: aiohttp.ClientSession, port: int) -> bool:
    try:
        async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def test_two_ticketing_processes_on_an_empty_schema_both_become_ready(
    database_url: str, new_schema: SchemaFactory
) -> None:
    schema = await new_schema()
    ports = [_free_port(), _free_port()]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TICKETING_DB_SCHEMA": schema,
        "TICKETING_RELAY": "0",
        "TICKETING_HOUSEKEEPING": "0",
        "TICKETING_HOST": "127.0.0.1",
        "ANTRIAN_ADMIN_PASSWORD": "race-admin-password",
        "ANTRIAN_LOG_FORMAT": "json",
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.ticketing",
            cwd=ROOT,
            env={**env, "TICKETING_PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for port, process in zip(ports, processes, strict=True):

                async def up(port: int = port, process: asyncio.subprocess.Process = process) -> bool:
                    assert process.returncode is None, "a replica exited during start-up"
                    return await _ready(session, port)

                await wait_until(up, within=120)
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            await process.wait()
    conn = await asyncpg.connect(database_url)
    try:
        versions = await conn.fetch(f"SELECT version FROM {schema}.schema_migrations ORDER BY version")
    finally:
        await conn.close()
    expected = sorted(p.name[:3] for p in TICKETING_MIGRATIONS.glob("*.sql"))
    assert [r["version"] for r in versions] == expected  # each applied exactly once


async def test_many_metrics_migrations_at_once_apply_each_version_once(
    database_url: str, new_schema: SchemaFactory
) -> None:
    schema = await new_schema()
    conns = [await asyncpg.connect(database_url) for _ in range(5)]
    try:
        applied = await asyncio.gather(*(migrate_metrics(conn, schema) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()
    winners = [versions for versions in applied if versions]
    assert len(winners) == 1  # one replica migrated; the others waited and found nothing to do
    metrics_migrations = Path(migrate_metrics.__code__.co_filename).with_name("migrations")
    assert winners[0] == sorted(p.name[:3] for p in metrics_migrations.glob("*.sql"))
