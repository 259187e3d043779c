"""``python -m services.metrics``: serves, migrates, refuses bad settings, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp
import pytest

from services.metrics import keys
from tests.integration.metrics.conftest import MetricsHallKit, Starter, closed_port, key, scrape, wait_until
from tests.integration.metrics.halls import hall_day

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def _env(hall: MetricsHallKit, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": hall.kafka,
        "DATABASE_URL": hall.database_url,
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": str(port),
        "METRICS_DB_SCHEMA": hall.schema,
        "ANTRIAN_EVENTS_TOPIC": hall.topic,
        "ANTRIAN_DLQ_TOPIC": hall.dlq,
        "METRICS_CONSUMER_GROUP": hall.group,
        "METRICS_TICKETING_URL": f"http://127.0.0.1:{closed_port()}",
        "ANTRIAN_LOG_FORMAT": "json",
    }


async def test_serves_and_stops_on_sigterm(hall: MetricsHallKit) -> None:
    port = closed_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.metrics", env=_env(hall, port), stderr=asyncio.subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession() as session:

            async def ready() -> bool:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_until(ready)
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                assert "process_cpu_seconds_total" in await response.text()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        assert process.stderr is not None
        lines = (await process.stderr.read()).decode().splitlines()
        assert lines
        assert all(line.startswith("{") for line in lines)  # JSON lines when stderr is not a tty
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_migrate_command_and_bad_settings(hall: MetricsHallKit) -> None:
    env = _env(hall, closed_port())
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.metrics", "migrate", env=env
    )
    assert await asyncio.wait_for(migrate.wait(), 30) == 0
    versions = await hall.fetchval("SELECT array_agg(version) FROM schema_migrations")
    assert versions[:3] == ["001", "002", "003"]  # and any later ones

    bad = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.metrics",
        env={**env, "METRICS_PORT": "eighty"},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(bad.communicate(), 30)
    assert bad.returncode == 2
    assert b"METRICS_PORT" in err

    no_kafka = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.metrics",
        env={**env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}"},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(no_kafka.communicate(), 60)
    assert no_kafka.returncode == 1
    assert b"Kafka at 127.0.0.1:" in err
    assert b"Traceback" not in err


async def test_readyz_names_a_database_that_is_gone(hall: MetricsHallKit, start_metrics: Starter) -> None:
    events = hall_day("gone-" + hall.schema.removeprefix("test_"), 3)
    client = await start_metrics(hall.settings())
    await hall.produce(events)
    await wait_until(lambda: hall.processed(events[-1]))
    assert (await client.get("/readyz")).status == 200
    before = await scrape(client)
    assert before[key("qms_events_processed_total", type="ticket.issued")] == 3

    await client.app[keys.STORE].close()
    response = await client.get("/readyz")
    assert response.status == 503
    assert response.content_type == "application/problem+json"
    assert (await response.json())["down"] == ["database"]
    assert response.headers["Retry-After"]
    # /metrics still answers with the last stored figures; the API says 503, never 500.
    after = await scrape(client)
    assert after[key("qms_events_processed_total", type="ticket.issued")] == 3
    report = await client.get("/api/v1/reports/daily?branch=bjb&date=2026-11-28")
    assert report.status == 503
    assert report.content_type == "application/problem+json"


async def test_consumer_lag_reaches_zero(hall: MetricsHallKit, start_metrics: Starter) -> None:
    events = hall_day("lag-" + hall.schema.removeprefix("test_"), 5)
    client = await start_metrics(hall.settings())
    await hall.produce(events)
    await wait_until(lambda: hall.processed(events[-1]))

    async def caught_up() -> bool:
        lags = {k: v for k, v in (await scrape(client)).items() if k[0] == "qms_consumer_lag"}
        return bool(lags) and all(v == 0 for v in lags.values())

    await wait_until(caught_up)
