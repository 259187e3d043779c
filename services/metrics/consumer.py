"""The Kafka edge: consume ``queue.events``, apply each event exactly once, dead-letter the rest.

Offsets are committed only after the database transaction that applied the
events has committed, so a crash between the two means a redelivery, which
the processed-events mark turns into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError

from services.events import (
    CloudEvent,
    EventError,
    InvalidDataError,
    UnknownEventTypeError,
    decode,
)
from services.metrics.errors import UnstorableData
from services.metrics.exporter import ProcessMetrics
from services.metrics.store import MetricsStore
from services.metrics.zones import BranchZones
from services.platform.backoff import Backoff
from services.platform.dlq import DeadLetterWriter, Reason
from services.platform.outage import OutageLog

logger = logging.getLogger(__name__)

MAX_BATCH = 5000  # records per poll: a catch-up applies them in few, large transactions


def _decode(value: object) -> CloudEvent:
    """Decode a record value; anything that is not an event is an :class:`EventError`."""
    if not isinstance(value, bytes) or not value:
        raise EventError("a record without a value")
    try:
        return decode(value)
    except RecursionError as exc:  # absurdly nested JSON must not stop the consumer
        raise EventError("JSON nested too deeply") from exc


def dlq_reason(error: EventError) -> str:
    """A short reason code for an event the contract rejects, by the error's type."""
    if isinstance(error, UnknownEventTypeError):
        return "unknown_type"
    return "invalid_data" if isinstance(error, InvalidDataError) else "malformed"


class EventConsumer:
    """Consumes the events topic in group ``group`` and applies the events to the store."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        store: MetricsStore,
        zones: BranchZones,
        metrics: ProcessMetrics,
        dlq_topic: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._store = store
        self._zones = zones
        self._metrics = metrics
        self._dlq_topic = dlq_topic
        self._clock = clock
        self._committed: dict[TopicPartition, int] = {}
        self._dlq = DeadLetterWriter(dlq_topic, "metrics", metrics.dead_lettered)
        self._outage = OutageLog(logger, "metrics consumer")
        self._failing_since: float | None = None
        metrics.consumer_stuck.set_function(self.stuck_seconds)  # read at each scrape, so never stale

    async def run(
        self, bootstrap_servers: str | None = None, kafka_options: Mapping[str, Any] | None = None
    ) -> None:
        """Consume until cancelled; failures are logged once per outage and retried with back-off.

        ``bootstrap_servers``, when given, is where the sources this consumer
        dead-lettered before are read back from, so none is sent twice.
        """
        backoff = Backoff(0.5, 5.0)
        while True:
            try:
                if bootstrap_servers is not None:
                    await self._dlq.load(self._producer, bootstrap_servers, options=kafka_options)
                batches = await self._consumer.getmany(timeout_ms=500, max_records=MAX_BATCH)
                await self._handle_all(list(batches.items()))
                await self._update_lag()
                self._progressed(backoff)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (the outermost loop: logged once per outage, go on)
                await self._failed(exc)
                await asyncio.sleep(backoff.next())

    def stuck_seconds(self) -> float:
        """How long the loop has failed without progress (0 while it advances)."""
        return 0.0 if self._failing_since is None else time.monotonic() - self._failing_since

    def _progressed(self, backoff: Backoff) -> None:
        backoff.reset()
        self._outage.recovered()
        self._failing_since = None

    async def _failed(self, exc: Exception) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            logger.debug("consuming failed", exc_info=exc)
        self._outage.failed(repr(exc))
        # The lag must tell the truth while the loop is stuck: the high-water marks still move.
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            await self._update_lag()

    async def _handle_all(
        self, batches: Sequence[tuple[TopicPartition, Sequence[ConsumerRecord[Any, Any]]]]
    ) -> None:
        """Apply one poll's records of every partition in one transaction, then commit their offsets."""
        if not batches:
            return
        offsets = {tp: records[-1].offset + 1 for tp, records in batches}
        try:
            events = await self._decode_all(batches)
            if events:
                await self._apply(events)
            await self._consumer.commit(offsets)
        except BaseException:
            # Nothing after the last commit counts as done: the whole poll is read again
            # (a partition revoked meanwhile is not ours).
            for tp, records in batches:
                with contextlib.suppress(IllegalStateError):
                    self._consumer.seek(tp, records[0].offset)
            raise
        self._committed.update(offsets)

    async def _decode_all(
        self, batches: Sequence[tuple[TopicPartition, Sequence[ConsumerRecord[Any, Any]]]]
    ) -> list[tuple[ConsumerRecord[Any, Any], CloudEvent]]:
        """The records that are events, partition after partition; the others are dead-lettered."""
        events: list[tuple[ConsumerRecord[Any, Any], CloudEvent]] = []
        for _, records in batches:
            for record in records:
                try:
                    events.append((record, _decode(record.value)))
                except EventError as exc:
                    await self._dead_letter(record, dlq_reason(exc), str(exc))
        return events

    async def _apply(self, events: Sequence[tuple[ConsumerRecord[Any, Any], CloudEvent]]) -> None:
        for _, event in events:
            self._zones.learn(event.branchid, event.data.timezone)
        try:
            outcomes = await self._store.apply([event for _, event in events])
        except UnstorableData as exc:
            if len(events) == 1:
                await self._dead_letter(events[0][0], "unstorable", str(exc))
                return
            # Find the culprit by halves, in order: the events before it are applied, it is dead-lettered.
            half = len(events) // 2
            await self._apply(events[:half])
            await self._apply(events[half:])
            return
        done = self._clock()
        for (record, _), outcome in zip(events, outcomes, strict=True):
            if outcome.invalid is not None:
                await self._dead_letter(record, "invalid_data", outcome.invalid)
            elif outcome.applied:
                lag = (done - outcome.event.time).total_seconds()
                self._metrics.event_lag.observe(max(0.0, lag))

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], reason: str, detail: str) -> None:
        await self._dlq.send(self._producer, record, Reason(reason), detail)

    async def _update_lag(self) -> None:
        assigned = self._consumer.assignment()
        for gone in set(self._committed) - set(assigned):
            del self._committed[gone]
            with contextlib.suppress(KeyError):
                self._metrics.consumer_lag.remove(str(gone.partition))
        for tp in assigned:
            high = self._consumer.highwater(tp)
            committed = self._committed.get(tp)
            if committed is None and high is not None:
                committed = await self._consumer.committed(tp)
                if committed is not None:
                    self._committed[tp] = committed
            if high is None or committed is None:
                continue
            self._metrics.consumer_lag.labels(partition=str(tp.partition)).set(max(0, high - committed))
