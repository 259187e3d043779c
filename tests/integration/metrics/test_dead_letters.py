"""Malformed events go to the DLQ with a reason header; consumption goes on."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer

from services.events import DLQ_REASON_HEADER, EventType
from tests.integration.metrics.conftest import MetricsHallKit, Starter, key, scrape, wait_until
from tests.unit.metrics.events import survey_event, ticket_event

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def _dead_letters(hall: MetricsHallKit, count: int) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = AIOKafkaConsumer(hall.dlq, bootstrap_servers=hall.kafka, auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                found.extend((r.value, dict(r.headers)) for rs in batch.values() for r in rs)
    finally:
        await consumer.stop()
    return found


async def test_malformed_events_are_dead_lettered(hall: MetricsHallKit, start_metrics: Starter) -> None:
    branch = "dlq-" + hall.schema.removeprefix("test_")
    unknown = ticket_event(EventType.TICKET_ISSUED, 0, ticket="u", branch=branch, sequence=2).to_dict()
    unknown["type"] = "ticket.teleported"
    bad_survey = survey_event(5, [4] * 9, ticket="s", branch=branch, sequence=3).to_dict()
    bad_survey["data"]["scores"] = [4, 4, 4]  # the contract refuses it: built by hand
    good = ticket_event(EventType.TICKET_ISSUED, 1, ticket="ok", branch=branch, sequence=4)
    client = await start_metrics(hall.settings())
    raw = [
        (branch.encode(), b"{not json"),
        (branch.encode(), None),  # a tombstone
        (branch.encode(), b"[" * 200_000 + b"]" * 200_000),  # nested beyond any parser's recursion
        (branch.encode(), json.dumps(unknown).encode()),
        (branch.encode(), json.dumps(bad_survey).encode()),
    ]
    await hall.produce([good], raw=raw)
    await wait_until(lambda: hall.processed(good))

    letters = await _dead_letters(hall, 5)
    reasons = sorted(headers[DLQ_REASON_HEADER].decode() for _, headers in letters)
    assert reasons == ["invalid_data", "malformed", "malformed", "malformed", "unknown_type"]
    assert b"{not json" in [value for value, _ in letters]
    assert all(headers["dlq-consumer"] == b"metrics" for _, headers in letters)

    samples = await scrape(client)
    assert samples[key("qms_events_dead_lettered_total", reason="malformed")] == 3
    assert samples[key("qms_events_dead_lettered_total", reason="unknown_type")] == 1
    assert samples[key("qms_events_dead_lettered_total", reason="invalid_data")] == 1
    assert (
        samples[
            key(
                "qms_tickets_issued_total",
                branch=branch,
                agency="disdukcapil",
                service="ktp",
                channel="kiosk",
            )
        ]
        == 1
    )
    rejected = await hall.fetchval(
        "SELECT count(*) FROM processed_events WHERE event_id = $1::uuid", bad_survey["id"]
    )
    assert rejected == 0
    assert samples[key("qms_event_lag_seconds_count")] == 1


async def test_a_sequence_postgresql_cannot_store_is_refused_alone(
    hall: MetricsHallKit, start_metrics: Starter
) -> None:
    branch = "seq-" + hall.schema.removeprefix("test_")
    before = ticket_event(EventType.TICKET_ISSUED, 0, ticket="a", branch=branch, sequence=1)
    huge = ticket_event(EventType.TICKET_ISSUED, 1, ticket="b", branch=branch, sequence=2**63)
    after = ticket_event(EventType.TICKET_ISSUED, 2, ticket="c", branch=branch, sequence=3)
    await hall.produce([before, huge, after])  # one partition, read in one batch or in several
    client = await start_metrics(hall.settings())
    await wait_until(lambda: hall.processed(after))

    letters = await _dead_letters(hall, 1)
    assert [headers[DLQ_REASON_HEADER] for _, headers in letters] == [b"invalid_data"]
    assert json.loads(letters[0][0])["id"] == huge.id
    assert await hall.processed(before)
    assert not await hall.processed(huge)
    issued = key(
        "qms_tickets_issued_total", branch=branch, agency="disdukcapil", service="ktp", channel="kiosk"
    )
    assert (await scrape(client))[issued] == 2
