"""`python -m services.ticketing` as a process: seed, serve, JSON logs, SIGTERM, bad settings."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import SchemaFactory, TopicFactory

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

HALLS = Path(__file__).resolve().parents[3] / "deploy" / "halls"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.ticketing", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_seed_serve_and_stop_on_sigterm(
    database_url: str, kafka_bootstrap: str, new_schema: SchemaFactory, new_topic: TopicFactory
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TICKETING_DB_SCHEMA": await new_schema(),
        "ANTRIAN_EVENTS_TOPIC": await new_topic(partitions=1),
        "TICKETING_HOST": "127.0.0.1",
        "TICKETING_PORT": str(port),
        "ANTRIAN_ADMIN_PASSWORD": "process-test-admin",
        "ANTRIAN_DEMO_OPERATOR_PASSWORD": "process-test-operator",
        "ANTRIAN_LOG_FORMAT": "json",
    }
    hall = str(HALLS / "jakarta-small.yaml")
    code, out, err = await run("seed", hall, env=env)
    assert code == 0, err
    assert out.strip() == (
        "seeded jkt (MPP Demo Jakarta Timur (kecil), Asia/Jakarta):"
        " 3 agencies, 4 services, 4 counters, 4 users"
    )
    code, again, err = await run("seed", hall, env=env)
    assert (code, again) == (0, out)
    assert "process-test" not in out + err

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.ticketing", env=env, stderr=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            async with http.post(
                f"{base}/api/v1/branches/jkt/tickets", json={"service_id": "jkt-pkb"}
            ) as resp:
                assert resp.status == 201
                assert (await resp.json())["number"] == "C001"
            async with http.get(f"{base}/metrics") as resp:
                assert "qms_outbox_published_total" in await resp.text()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.stderr is not None
    lines = (await proc.stderr.read()).decode().splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)  # JSON lines when stderr is not a terminal
        assert {"time", "level", "logger", "message"} <= set(record)
    assert "process-test" not in "\n".join(lines)


async def test_bad_settings_name_the_variable() -> None:
    code, _, err = await run("migrate", env={**os.environ, "TICKETING_PORT": "http"})
    assert code == 2
    assert "TICKETING_PORT" in err
    code, _, err = await run("bogus", env=dict(os.environ))
    assert code == 2
    assert "seed FILE" in err
