"""Issue 11 #1: a stuck partition shows in metrics' readiness, lag gauge and stuck gauge (which alerts).

The metrics store is made to fail for real (its ``processed_events`` table
renamed away), events keep arriving, and the service must report 503 naming
its consumer, a lag above zero and a growing ``qms_consumer_stuck_seconds``;
once the table is back it catches up and says ready with no lag.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

import services.metrics.app
from tests.conftest import SchemaFactory, TopicFactory
from tests.faults.conftest import samples, start_metrics, wait_until
from tests.integration.metrics.conftest import MetricsHallKit
from tests.integration.metrics.halls import hall_day

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def _readiness(client: TestClient[Any, Any]) -> tuple[int, list[str]]:
    response = await client.get("/readyz")
    return response.status, list((await response.json()).get("down", []))


async def test_a_stuck_partition_makes_metrics_unready_with_a_true_lag(
    new_topic: TopicFactory,
    new_schema: SchemaFactory,
    kafka_bootstrap: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services.metrics.app, "STUCK_AFTER", 3.0)  # instead of 30 s, to keep the test short
    topic, dlq, schema = await new_topic(partitions=1), await new_topic(partitions=1), await new_schema()
    hall = MetricsHallKit(topic, dlq, schema, f"metrics-{schema}", kafka_bootstrap, database_url)
    events = hall_day("stuck-" + schema.removeprefix("test_"), 4)
    client = await start_metrics(kafka_bootstrap, database_url, topic, dlq, schema)
    conn = await asyncpg.connect(database_url)
    try:
        await hall.produce(events[:3])
        await wait_until(lambda: hall.processed(events[2]))

        async def ready() -> bool:
            return (await _readiness(client))[0] == 200

        await wait_until(ready)
        await conn.execute(f"ALTER TABLE {schema}.processed_events RENAME TO processed_events_away")
        await hall.produce(events[3:])

        async def stuck() -> bool:
            status, down = await _readiness(client)
            return status == 503 and down == ["consumer"]

        await wait_until(stuck)
        assert await samples(client, "qms_consumer_lag") > 0
        assert await samples(client, "qms_consumer_stuck_seconds") >= 3.0

        await conn.execute(f"ALTER TABLE {schema}.processed_events_away RENAME TO processed_events")
        await wait_until(lambda: hall.processed(events[-1]))
        await wait_until(ready)

        async def no_lag() -> bool:
            return await samples(client, "qms_consumer_lag") == 0

        await wait_until(no_lag)
        assert await samples(client, "qms_consumer_stuck_seconds") == 0
    finally:
        await conn.close()
        await client.close()
