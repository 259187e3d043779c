"""Kafka sign-in and ACLs on a real broker: only ticketing's relay writes ``queue.events``.

A private broker started by ``stack.sh kafka-up`` with ``ANTRIAN_KAFKA_AUTH=scram``
(SASL/SCRAM-SHA-512 users and the ACLs of docs/deploy.md). The display's and
metrics' users cannot write the event stream, a wrong password or a plaintext
client cannot connect at all, and the three real services signed in with
their own users carry a ticket from the HTTP API to the screen and the totals.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.metrics.app import init_app as metrics_app
from services.metrics.settings import Settings as MetricsSettings
from services.platform.kafka import KafkaSettings
from tests.conftest import SchemaFactory
from tests.faults.conftest import samples, start_ticketing, wait_until
from tests.faults.display_kit import display_process
from tests.integration.private_kafka import PrivateKafka
from tests.integration.ticketing.conftest import admin_auth, issue_and_serve_half

pytestmark = pytest.mark.timeout(420)

EVENTS = "queue.events"
DLQ = "queue.events.dlq"


@pytest.fixture
async def secure_kafka(tmp_path: Path) -> AsyncIterator[PrivateKafka]:
    kafka = PrivateKafka(tmp_path / "run", auth="scram")
    try:
        await kafka.start()
        yield kafka
    finally:
        await kafka.stop()


async def _write(env: dict[str, str]) -> str:
    """Produce one record onto the events topic as ``env`` signs in: "written" or the error's name."""
    options = KafkaSettings.from_env(env).kafka_options()
    producer = AIOKafkaProducer(
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], request_timeout_ms=8000, **options
    )
    try:
        await producer.start()
        await producer.send_and_wait(EVENTS, b"{}", key=b"forged")
        return "written"
    except KafkaError as exc:
        return type(exc).__name__
    finally:
        await producer.stop()


async def test_only_ticketings_user_may_write_the_event_stream(secure_kafka: PrivateKafka) -> None:
    for user in ("antrian-display", "antrian-metrics"):
        assert await _write(secure_kafka.sign_in(user)) == "TopicAuthorizationFailedError", user
    assert (
        await _write(secure_kafka.sign_in("antrian-ticketing", "not-the-password")) == "KafkaConnectionError"
    )
    assert await _write({"KAFKA_BOOTSTRAP_SERVERS": secure_kafka.bootstrap}) == "KafkaConnectionError"
    assert await _write(secure_kafka.sign_in("antrian-ticketing")) == "written"


async def test_the_three_services_signed_in_carry_a_call_to_the_screen_and_the_totals(
    secure_kafka: PrivateKafka, database_url: str, new_schema: SchemaFactory, tmp_path: Path
) -> None:
    ticketing_in = secure_kafka.sign_in("antrian-ticketing")
    ticketing, branch = await start_ticketing(
        database_url,
        await new_schema(),
        relay_enabled=True,
        kafka_bootstrap_servers=secure_kafka.bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username=ticketing_in["KAFKA_SASL_USERNAME"],
        kafka_sasl_password=ticketing_in["KAFKA_SASL_PASSWORD"],
    )
    metrics = await _metrics(secure_kafka, database_url, await new_schema())
    try:
        async with display_process(
            secure_kafka.bootstrap,
            EVENTS,
            DLQ,
            tmp_path,
            DISPLAY_TICKETING_URL=str(ticketing.make_url("")).rstrip("/"),
            **secure_kafka.sign_in("antrian-display"),
        ) as display:
            auth = await admin_auth(ticketing)
            opened = await ticketing.post(f"/api/v1/counters/{branch}-loket-1/open", headers=auth)
            assert opened.status == 200, await opened.text()
            await issue_and_serve_half(ticketing, branch, auth, tickets=2)

            async def on_screen() -> bool:
                status, body = await display.get(f"/api/v1/branches/{branch}/screen")
                return status == 200 and len(body["calls"]) == 1

            async def counted() -> bool:
                return await samples(metrics, "qms_tickets_issued_total") == 2

            async def ready() -> bool:
                return (await display.get("/readyz"))[0] == 200

            await wait_until(on_screen, within=90)
            await wait_until(counted, within=90)
            # Under stress-ng the display once answered 503 "rebuild down" just after
            # showing the call (a branch being re-read); it must come back by itself.
            await wait_until(ready, within=90)
    finally:
        await asyncio.gather(metrics.close(), ticketing.close())


async def _metrics(kafka: PrivateKafka, database_url: str, schema: str) -> TestClient[Any, Any]:
    """Metrics by its real factory, signed in as its own user, in its own consumer group."""
    settings = MetricsSettings.from_env(
        {
            **kafka.sign_in("antrian-metrics"),
            "DATABASE_URL": database_url,
            "METRICS_DB_SCHEMA": schema,
            "ANTRIAN_EVENTS_TOPIC": EVENTS,
            "ANTRIAN_DLQ_TOPIC": DLQ,
            "METRICS_CONSUMER_GROUP": f"metrics-{schema}",  # the ACL allows the group prefix "metrics"
            "METRICS_TICKETING_URL": "http://127.0.0.1:9",
        }
    )
    client: TestClient[Any, Any] = TestClient(TestServer(metrics_app(settings), host="127.0.0.1"))
    await client.start_server()
    return client
