"""Fixtures shared by every test layer.

Integration tests run against the real Kafka broker and PostgreSQL that
`make test` starts (deploy/local/stack.sh). Each test gets its own topic and
its own schema, so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# Functional tests issue many tickets from one address, as a registered kiosk
# would; the abuse limits are tested on their own (tests/faults/test_abuse_limits.py).
os.environ.setdefault("TICKETING_RATE_LIMITS", "off")

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
DATABASE = os.environ.get("DATABASE_URL", "postgresql://antrian:antrian@127.0.0.1:5433/antrian")

TopicFactory = Callable[..., Awaitable[str]]
SchemaFactory = Callable[[], Awaitable[str]]


@pytest.fixture
def kafka_bootstrap() -> str:
    """Bootstrap servers of the real broker."""
    return KAFKA


@pytest.fixture
def database_url() -> str:
    """DSN of the real PostgreSQL database."""
    return DATABASE


def unique_name(prefix: str) -> str:
    """A name no other test uses: ``prefix`` plus 12 random hex digits."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def new_topic(kafka_bootstrap: str) -> AsyncIterator[TopicFactory]:
    """Create fresh topics on the real broker; delete them afterwards."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=15000)
    await admin.start()
    created: list[str] = []

    async def make(partitions: int = 3, prefix: str = "test.events.") -> str:
        name = unique_name(prefix)
        await admin.create_topics([NewTopic(name, partitions, 1)])
        created.append(name)
        return name

    try:
        yield make
    finally:
        if created:
            try:
                await admin.delete_topics(created)
            except Exception as exc:  # a leftover topic is harmless; say so and go on
                print(f"could not delete test topics {created}: {exc!r}")
        await admin.close()


@pytest.fixture
async def new_schema(database_url: str) -> AsyncIterator[SchemaFactory]:
    """Hand out fresh PostgreSQL schema names; drop the schemas afterwards."""
    names: list[str] = []

    async def make() -> str:
        name = unique_name("test_")
        names.append(name)
        return name

    try:
        yield make
    finally:
        if names:
            conn = await asyncpg.connect(database_url)
            try:
                for name in names:
                    await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            finally:
                await conn.close()
