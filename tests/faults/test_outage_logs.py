"""Issue 11 #9: a Kafka outage is logged once per change of state, not once per retry.

The real outbox relay (with the real PostgreSQL) and the real display
consumer run against a Kafka address where nothing listens. Each retries
many times; the lines they write must stay a handful, whatever aiokafka
itself reports.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from services.display.app import CONSUMER
from services.display.app import init_app as display_app
from services.ticketing.outbox import OutboxRelay
from tests.conftest import SchemaFactory
from tests.faults.conftest import wait_until
from tests.integration.display.hallkit import display_settings
from tests.integration.ticketing.conftest import hall_doc, new_branch_id, seed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

NOWHERE = "127.0.0.1:1"  # nothing listens on port 1


def _lines(caplog: pytest.LogCaptureFixture, prefix: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name.startswith(prefix) and r.levelno >= logging.WARNING
    ]


async def test_the_relay_logs_a_kafka_outage_once_not_per_retry(
    database_url: str, new_schema: SchemaFactory, caplog: pytest.LogCaptureFixture
) -> None:
    schema = await new_schema()
    await seed(database_url, schema, hall_doc(new_branch_id()))
    registry = CollectorRegistry()
    relay = OutboxRelay(
        dsn=database_url, schema=schema, bootstrap_servers=NOWHERE, topic="nowhere", registry=registry
    )
    caplog.set_level(logging.INFO)
    await relay.start()
    try:

        async def retried_often() -> bool:
            return (registry.get_sample_value("qms_outbox_publish_errors_total") or 0) >= 6

        await wait_until(retried_often, within=120)
    finally:
        await relay.stop()
    lines = _lines(caplog, "services.ticketing.outbox")
    assert len(lines) == 1, lines
    assert lines[0].startswith("outbox relay: Kafka is down")
    assert len(_lines(caplog, "aiokafka")) <= 12  # aiokafka's own reports stay bounded too


async def test_the_display_logs_a_kafka_outage_once_not_per_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = display_app(display_settings(NOWHERE, "nothing", "nothing.dlq", tmp_path))
    consumer = app[CONSUMER]
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(consumer.run())
    try:

        async def retried_often() -> bool:
            return consumer.failed_sessions >= 6

        await wait_until(retried_often, within=120)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    lines = _lines(caplog, "services.display")
    assert len(lines) == 1, lines
    assert lines[0].startswith("display consumer: Kafka is down")
