"""The dead-letter writer every consumer uses: one reason vocabulary, one header set, one metric.

A record a consumer cannot use goes to the DLQ topic **at most once per
consumer**, whatever its size or content, and the consume loop goes on:

* the original value is re-sent when it fits (:data:`MAX_COPY_BYTES`); a larger
  one is replaced by a bounded excerpt, and ``dlq-source`` always names the
  original's topic/partition/offset, so the record can be found in the log;
* every source already dead-lettered by this consumer is remembered, including
  those written before a restart (:meth:`DeadLetterWriter.load` reads them back
  from the DLQ), so a replay or a rebuild of the day never re-sends them.

Headers: ``dlq-reason`` (a :class:`Reason`), ``dlq-detail`` (bounded text),
``dlq-source`` (``topic/partition/offset``), ``dlq-consumer`` (who refused it),
``dlq-original-bytes`` (the original value's size) and ``dlq-truncated``
(``true`` when the value is an excerpt). The metric is
``qms_events_dead_lettered_total{reason}`` in every service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError
from prometheus_client import CollectorRegistry, Counter

log = logging.getLogger(__name__)

REASON_HEADER = "dlq-reason"
DETAIL_HEADER = "dlq-detail"
SOURCE_HEADER = "dlq-source"
CONSUMER_HEADER = "dlq-consumer"
SIZE_HEADER = "dlq-original-bytes"
TRUNCATED_HEADER = "dlq-truncated"

METRIC_NAME = "qms_events_dead_lettered"
MAX_COPY_BYTES = 512 * 1024  # larger originals are referenced, not copied
EXCERPT_BYTES = 1024
MAX_DETAIL_CHARS = 500


class Reason(StrEnum):
    """Why a record was dead-lettered (the ``dlq-reason`` header)."""

    MALFORMED = "malformed"  # not a JSON object / not an event envelope at all
    UNKNOWN_TYPE = "unknown_type"  # an envelope of a type this consumer does not know
    INVALID_EVENT = "invalid_event"  # an envelope that breaks the contract
    INVALID_DATA = "invalid_data"  # a valid envelope whose data cannot be used
    UNSTORABLE = "unstorable"  # the database refused a value of the event
    UNPROCESSABLE = "unprocessable"  # the consumer refused it for another stated reason
    INTERNAL_ERROR = "internal_error"  # a bug met by this record
    SEQUENCE_GAP = "sequence_gap"  # an event outside its branch's unbroken chain of sequences in the log


def dead_letter_counter(registry: CollectorRegistry) -> Counter:
    """The ``qms_events_dead_lettered_total{reason}`` counter in ``registry``."""
    return Counter(
        METRIC_NAME, "Records sent to the dead-letter topic, by reason", ["reason"], registry=registry
    )


def source_of(topic: str, partition: int, offset: int) -> str:
    """The ``dlq-source`` value naming one record of the log."""
    return f"{topic}/{partition}/{offset}"


def dlq_headers(
    reason: Reason, detail: str, source: str, consumer: str, size: int, *, truncated: bool
) -> list[tuple[str, bytes]]:
    """The header set of a dead-lettered record (pure)."""
    return [
        (REASON_HEADER, reason.value.encode()),
        (DETAIL_HEADER, detail[:MAX_DETAIL_CHARS].encode("utf-8", "replace")),
        (SOURCE_HEADER, source.encode()),
        (CONSUMER_HEADER, consumer.encode()),
        (SIZE_HEADER, str(size).encode()),
        (TRUNCATED_HEADER, b"true" if truncated else b"false"),
    ]


def header(headers: Iterable[tuple[str, bytes]] | None, name: str) -> str | None:
    """The first value of header ``name`` as text, or ``None``."""
    for key, value in headers or ():
        if key == name:
            return bytes(value).decode("utf-8", "replace")
    return None


async def _behind(reader: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    for tp, offset in end.items():
        if await reader.position(tp) < offset:
            return True
    return False


class DeadLetterWriter:
    """Sends refused records of one consumer to the DLQ topic, each source once."""

    def __init__(self, topic: str, consumer: str, counter: Counter) -> None:
        self._topic = topic
        self._consumer = consumer
        self._counter = counter
        self._sent: set[str] = set()
        self._loaded = False

    def already_sent(self, source: str) -> bool:
        """Whether this consumer has dead-lettered ``source`` already."""
        return source in self._sent

    async def load(
        self,
        producer: AIOKafkaProducer,
        bootstrap_servers: str,
        *,
        timeout_ms: int = 1000,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """Remember every source this consumer dead-lettered before (read back from the DLQ topic, once)."""
        if self._loaded:
            return 0
        reader = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            client_id="antrian-dlq",
            **(options or {}),
        )
        try:
            await reader.start()
            # The producer's partitions_for() fetches the topic's metadata; the consumer has no public way.
            partitions = await producer.partitions_for(self._topic)
            tps = [TopicPartition(self._topic, p) for p in sorted(partitions or ())]
            found = await self._read_back(reader, tps, timeout_ms) if tps else 0
            self._loaded = True
            return found
        finally:
            await reader.stop()

    async def _read_back(
        self, reader: AIOKafkaConsumer, tps: Sequence[TopicPartition], timeout_ms: int
    ) -> int:
        reader.assign(list(tps))
        await reader.seek_to_beginning(*tps)
        end: dict[TopicPartition, int] = await reader.end_offsets(list(tps))
        found = 0
        while await _behind(reader, end):
            batch = await reader.getmany(timeout_ms=timeout_ms, max_records=1000)
            for records in batch.values():
                for record in records:
                    if header(record.headers, CONSUMER_HEADER) == self._consumer:
                        source = header(record.headers, SOURCE_HEADER)
                        if source is not None:
                            self._sent.add(source)
                            found += 1
        return found

    async def send(self, producer: AIOKafkaProducer, record: Any, reason: Reason, detail: str) -> bool:
        """Dead-letter ``record`` (an aiokafka ``ConsumerRecord``) unless done before; ``True`` if sent now.

        A broker that cannot be reached raises :class:`KafkaError` (the caller
        retries); a record too large to copy is sent as a reference and an excerpt.
        """
        source = source_of(record.topic, record.partition, record.offset)
        if source in self._sent:
            return False
        value = record.value if isinstance(record.value, bytes) else b""
        log.warning("dead-lettering %s (%s): %s", source, reason.value, detail[:MAX_DETAIL_CHARS])
        try:
            await self._send(
                producer, record.key, value, reason, detail, source, copy=len(value) <= MAX_COPY_BYTES
            )
        except (MessageSizeTooLargeError, RecordTooLargeError):
            await self._send(producer, record.key, value, reason, detail, source, copy=False)
        self._sent.add(source)
        self._counter.labels(reason=reason.value).inc()
        return True

    async def _send(
        self,
        producer: AIOKafkaProducer,
        key: bytes | None,
        value: bytes,
        reason: Reason,
        detail: str,
        source: str,
        *,
        copy: bool,
    ) -> None:
        body = value if copy else value[:EXCERPT_BYTES]
        key = key if key is None or len(key) <= EXCERPT_BYTES else key[:EXCERPT_BYTES]
        headers = dlq_headers(reason, detail, source, self._consumer, len(value), truncated=not copy)
        await producer.send_and_wait(self._topic, value=body, key=key, headers=headers)


__all__ = [
    "CONSUMER_HEADER",
    "DETAIL_HEADER",
    "REASON_HEADER",
    "SOURCE_HEADER",
    "DeadLetterWriter",
    "Reason",
    "dead_letter_counter",
    "dlq_headers",
    "header",
    "source_of",
]
