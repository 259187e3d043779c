"""Fixtures for the metrics service against the real Kafka broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from services.events import CloudEvent, encode
from services.metrics.app import init_app, utc_now
from services.metrics.settings import Settings
from tests.conftest import SchemaFactory, TopicFactory
from tests.contract import Contract, ContractHolder


def closed_port() -> int:
    """A local port nobody listens on (so ticketing lookups fail fast)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MetricsHallKit:
    """One test's own topics, schema and consumer group."""

    topic: str
    dlq: str
    schema: str
    group: str
    kafka: str
    database_url: str

    def settings(self, group: str | None = None) -> Settings:
        """Settings of a metrics service bound to this hall."""
        return Settings.from_env(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
                "DATABASE_URL": self.database_url,
                "METRICS_PORT": "0",
                "METRICS_DB_SCHEMA": self.schema,
                "ANTRIAN_EVENTS_TOPIC": self.topic,
                "ANTRIAN_DLQ_TOPIC": self.dlq,
                "METRICS_CONSUMER_GROUP": group or self.group,
                "METRICS_TICKETING_URL": f"http://127.0.0.1:{closed_port()}",
                "ANTRIAN_LOG_FORMAT": "text",
            }
        )

    async def produce(
        self, events: Iterable[CloudEvent], raw: Iterable[tuple[bytes, bytes | None]] = ()
    ) -> None:
        """Publish events (key = branch id) and raw (key, value) records to the topic."""
        producer = AIOKafkaProducer(bootstrap_servers=self.kafka, acks="all")
        await producer.start()
        try:
            for key, value in raw:
                await producer.send_and_wait(self.topic, value=value, key=key)
            for event in events:
                await producer.send_and_wait(self.topic, value=encode(event), key=event.branchid.encode())
        finally:
            await producer.stop()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """One value from the hall's schema."""
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": self.schema})
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def processed(self, event: CloudEvent) -> bool:
        """True once the service has applied ``event``."""
        found = await self.fetchval(
            "SELECT count(*) FROM processed_events WHERE event_id = $1::uuid", event.id
        )
        return bool(found)


@pytest.fixture
async def hall(
    new_topic: TopicFactory, new_schema: SchemaFactory, kafka_bootstrap: str, database_url: str
) -> MetricsHallKit:
    """A fresh topic (3 partitions), DLQ topic, schema and group."""
    topic = await new_topic(partitions=3)
    dlq = await new_topic(partitions=1, prefix="test.dlq.")
    schema = await new_schema()
    return MetricsHallKit(topic, dlq, schema, f"metrics-{schema}", kafka_bootstrap, database_url)


Starter = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def start_metrics() -> AsyncIterator[Starter]:
    """Start metrics services built by the real factory; stopped after the test."""
    clients: list[TestClient[Any, Any]] = []

    async def start(settings: Settings, clock: Callable[[], datetime] = utc_now) -> TestClient[Any, Any]:
        contract = ContractHolder()  # every response the tests receive is checked against /openapi.json
        server = TestServer(init_app(settings, clock), host="127.0.0.1")
        client: TestClient[Any, Any] = TestClient(server, middlewares=[contract.middleware()])
        await client.start_server()
        clients.append(client)
        contract.contract = Contract(await (await client.get("/openapi.json")).json())
        return client

    try:
        yield start
    finally:
        for client in reversed(clients):
            await client.close()


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.1)


async def scrape(client: TestClient[Any, Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The service's /metrics samples, keyed by (name, sorted labels)."""
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A sample key for :func:`scrape` results."""
    return name, tuple(sorted(labels.items()))
