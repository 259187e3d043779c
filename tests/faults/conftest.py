"""Helpers of the fault suite: real processes' apps, the real broker and the real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from services.metrics.app import init_app as metrics_app
from services.metrics.settings import Settings as MetricsSettings
from services.platform.dlq import CONSUMER_HEADER, SOURCE_HEADER, header
from services.ticketing.app import init_app as ticketing_app
from tests.integration.ticketing.conftest import hall_doc, new_branch_id, seed, settings_for


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds (a generous ceiling, not a timing)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling other processes' state
            await asyncio.sleep(0.2)


async def dead_letters(bootstrap: str, dlq: str) -> list[dict[str, Any]]:
    """Every record of the DLQ topic ``dlq`` (one partition): its consumer, source and size."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        await reader.start()
        tp = TopicPartition(dlq, 0)
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        end = (await reader.end_offsets([tp]))[tp]
        found: list[dict[str, Any]] = []
        while await reader.position(tp) < end:
            batch = await reader.getmany(tp, timeout_ms=1000)
            for record in batch.get(tp, []):
                found.append(
                    {
                        "consumer": header(record.headers, CONSUMER_HEADER),
                        "source": header(record.headers, SOURCE_HEADER),
                        "bytes": len(record.value or b""),
                        "headers": {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers},
                    }
                )
        return found
    finally:
        await reader.stop()


async def start_metrics(
    kafka: str, database_url: str, topic: str, dlq: str, schema: str
) -> TestClient[Any, Any]:
    """A metrics service built by its real factory, consuming ``topic`` into ``schema``."""
    settings = MetricsSettings.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "DATABASE_URL": database_url,
            "METRICS_DB_SCHEMA": schema,
            "ANTRIAN_EVENTS_TOPIC": topic,
            "ANTRIAN_DLQ_TOPIC": dlq,
            "METRICS_CONSUMER_GROUP": f"metrics-{schema}",
            "METRICS_TICKETING_URL": "http://127.0.0.1:9",
        }
    )
    client: TestClient[Any, Any] = TestClient(TestServer(metrics_app(settings), host="127.0.0.1"))
    await client.start_server()
    return client


async def samples(client: TestClient[Any, Any], name: str) -> float:
    """The sum of the samples called ``name`` in the service's /metrics."""
    text = await (await client.get("/metrics")).text()
    return sum(
        s.value for family in text_string_to_metric_families(text) for s in family.samples if s.name == name
    )


async def start_ticketing(
    database_url: str, schema: str, **overrides: Any
) -> tuple[TestClient[Any, Any], str]:
    """Ticketing built by its real factory on ``schema`` with a seeded hall; return it and the branch id."""
    branch = new_branch_id()
    await seed(database_url, schema, hall_doc(branch))
    settings = settings_for(database_url, schema, **overrides)
    client: TestClient[Any, Any] = TestClient(TestServer(ticketing_app(settings)))
    await client.start_server()
    return client, branch
