"""The consumer's per-record handling: any failure of one event dead-letters it and goes on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from aiokafka import AIOKafkaProducer, ConsumerRecord

from services.display.board import ScreenBoard
from services.display.consumer import EventConsumer
from services.display.hub import Hub
from services.display.metrics import DisplayMetrics
from services.display.settings import Settings
from services.events import DLQ_REASON_HEADER, encode, new_event
from tests.unit.events.kit import paused


class _Producer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(self, topic: str, **kwargs: Any) -> None:
        self.sent.append({"topic": topic, **kwargs})


class _BrokenBoard:
    def fold(self, event: object, *, live: bool = True) -> None:
        raise RuntimeError("a bug met by one event")

    def spend(self, branch_id: str, sequence: int, event_id: str | None) -> None:
        pass


def _record(value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("queue.events", 0, 7, 0, 0, b"bjb", value, None, 0, len(value), [])


async def test_an_unexpected_failure_is_dead_lettered_not_raised() -> None:
    metrics = DisplayMetrics()
    hub = cast(Hub, object())
    consumer = EventConsumer(Settings(), cast(ScreenBoard, _BrokenBoard()), hub, metrics)
    event = new_event(
        paused(counter_id="c1"),
        source="/ticketing",
        subject="c1",
        time=datetime(2026, 11, 28, 1, 0, tzinfo=UTC),
    ).with_sequence(1)
    producer = _Producer()
    await consumer._handle(_record(encode(event)), cast(AIOKafkaProducer, producer), live=True)
    [sent] = producer.sent
    assert sent["topic"] == "queue.events.dlq"
    assert dict(sent["headers"])[DLQ_REASON_HEADER] == b"internal_error"
    sample = metrics.registry.get_sample_value("qms_events_dead_lettered_total", {"reason": "internal_error"})
    assert sample == 1.0
