"""The Kafka edge: rebuild today's screens, then follow ``queue.events`` live.

Every display instance reads every partition (manual assignment, no consumer
group, no commits), so three instances behind a load balancer show the same
thing. On start each partition is sought with ``offsets_for_times`` to the
earliest start of the current business day among Indonesia's time zones
(and the configured default), the fold runs forward to the end offsets
captured at start, and only then is the hall ready to serve screens. Events
of an earlier day that this reads are skipped by the fold. Partitions added
to the topic later are noticed within ``DISPLAY_PARTITION_CHECK`` seconds
(the producer's metadata is refreshed that often) and read from the same
start of the business day.

A record that is not a valid event, whose data cannot be shown, or whose
fold fails in any other way goes to the DLQ with the reason in a header, and
the consumer goes on: one event can never stop the stream.

A sequence is never trusted blindly: an event that skips ahead of its
branch's last sequence (a gap, or a forged far-ahead jump) marks the branch
stale, and between batches a stale branch is re-read from the start of the
business day on the partitions its events came from (up to where the
consumer stands): the longest contiguous run of sequences is folded into a
fresh screen, the events outside it go to the DLQ (once), and the branch's
screens get a new snapshot. A branch whose directory entry (time zone)
arrives is re-read the same way, so nothing folded with a guessed zone stays.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.display import screen
from services.display.board import ScreenBoard
from services.display.errors import DisplayError, ScreenError, SequenceGapError
from services.display.hub import Hub
from services.display.metrics import DisplayMetrics
from services.display.settings import Settings
from services.events import (
    CloudEvent,
    EventError,
    InvalidDataError,
    MalformedEventError,
    UnknownEventTypeError,
    decode,
)
from services.platform.backoff import Backoff
from services.platform.dlq import DeadLetterWriter, Reason
from services.platform.outage import OutageLog

log = logging.getLogger(__name__)

INDONESIAN_ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
"""Most dead-lettered record positions remembered (so a record re-read is not sent twice)."""


def rebuild_start(now: datetime, zones: tuple[str, ...]) -> datetime:
    """The earliest local midnight that starts a current business day in any of ``zones``."""
    starts = []
    for name in zones:
        tz = ZoneInfo(name)
        starts.append(datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz))
    return min(starts)


def dlq_reason(exc: Exception) -> str:
    """A short reason code for a rejected record, by the exception's type."""
    if isinstance(exc, SequenceGapError):
        return "sequence_gap"
    if isinstance(exc, ScreenError | InvalidDataError):
        return "invalid_data"
    if isinstance(exc, DisplayError):
        return "unprocessable"
    if isinstance(exc, UnknownEventTypeError):
        return "unknown_type"
    if isinstance(exc, MalformedEventError):
        return "malformed"
    if isinstance(exc, EventError):
        return "invalid_event"
    return "internal_error"


async def _caught_up(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    for tp, offset in end.items():
        if await consumer.position(tp) < offset:
            return False
    return True


async def _seek_to(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], start: datetime
) -> dict[TopicPartition, int]:
    """Seek the assigned ``tps`` to their first record at or after ``start``; return their end offsets.

    The ends are read first: a partition with nothing since ``start`` is read from
    that end, so an event produced while the time search runs is not skipped.
    """
    end: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    found = await consumer.offsets_for_times(dict.fromkeys(tps, int(start.timestamp() * 1000)))
    for tp in tps:
        offset = found.get(tp)
        consumer.seek(tp, offset.offset if offset is not None else end[tp])
    return end


class EventConsumer:
    """Rebuilds the hall from today's events, then feeds live changes to the hub."""

    def __init__(self, settings: Settings, board: ScreenBoard, hub: Hub, metrics: DisplayMetrics) -> None:
        self._settings = settings
        self._board = board
        self._hub = hub
        self._metrics = metrics
        self._processed = functools.cache(metrics.events_processed.labels)  # one child per type, not a lookup
        self._consumer: AIOKafkaConsumer | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._stale: set[str] = set()  # branches to re-read from the log
        self._partitions_of: dict[str, set[TopicPartition]] = {}  # where each branch's events were read
        self.rebuilt = asyncio.Event()
        self._dlq = DeadLetterWriter(settings.dlq_topic, "display", metrics.dead_lettered)
        self._outage = OutageLog(log, "display consumer: Kafka")
        self.failed_sessions = 0  # sessions ended by a broker error, since start

    def request_resync(self, branch_id: str) -> None:
        """Re-read ``branch_id`` from the log between the next batches (when it has events)."""
        if branch_id in self._partitions_of:
            self._stale.add(branch_id)

    def settled(self) -> bool:
        """Whether no branch waits to be re-read."""
        return not self._stale

    async def run(self) -> None:
        """Consume forever; reconnect with backoff when the broker fails."""
        backoff = Backoff(0.5, 15.0)
        try:
            while True:
                try:
                    await self._session()
                except KafkaError as exc:
                    self.failed_sessions += 1
                    self._outage.failed(exc)
                except Exception:  # the task's outermost loop: log with context and go on
                    log.exception("display consumer crashed; retrying")
                await asyncio.sleep(backoff.next())
        finally:
            for task in list(self._background):
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)

    async def healthy(self) -> bool:
        """Whether the broker answers a metadata request now."""
        consumer = self._consumer
        if consumer is None:
            return False
        try:
            async with asyncio.timeout(2):
                await consumer.topics()
        except (KafkaError, TimeoutError):
            return False
        return True

    async def _session(self) -> None:
        s = self._settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="antrian-display",
            fetch_max_wait_ms=100,
            **s.kafka_options(),
        )
        # The producer's metadata, refreshed every check, is how new partitions of the topic show up.
        producer = AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            client_id="antrian-display",
            metadata_max_age_ms=s.partition_check_seconds * 1000,
            **s.kafka_options(),
        )
        try:
            await consumer.start()
            await producer.start()
            self._consumer = consumer
            await self._dlq.load(producer, s.kafka_bootstrap_servers, options=s.kafka_options())
            self._outage.recovered()
            await self._rebuild(consumer, producer)
            await self._follow(consumer, producer)
        finally:
            self._consumer = None
            await producer.stop()
            await consumer.stop()

    async def _partitions(self, producer: AIOKafkaProducer) -> list[TopicPartition]:
        # The producer's partitions_for() fetches the topic's metadata; the consumer has no public way.
        topic = self._settings.events_topic
        partitions = await producer.partitions_for(topic)
        if not partitions:
            raise KafkaError(f"topic {topic} has no partitions")
        return [TopicPartition(topic, p) for p in sorted(partitions)]

    async def _rebuild(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        tps = await self._partitions(producer)
        consumer.assign(tps)
        start = self._day_start()
        end = await _seek_to(consumer, tps, start)
        rebuilt = self._board.ready
        while not await _caught_up(consumer, end):
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for record in records:
                    await self._handle(record, producer, live=rebuilt)
        await self._resync_stale(consumer, producer)
        log.info("hall rebuilt from %s: %d branch(es)", start.isoformat(), len(self._board.screens))
        self._board.ready = True
        self.rebuilt.set()
        if rebuilt:  # a reconnect: screens may have missed changes, so resynchronise them
            for branch_id in list(self._board.screens):
                self._hub.resync(branch_id)

    def _day_start(self) -> datetime:
        zones = (*INDONESIAN_ZONES, self._settings.default_timezone)
        return rebuild_start(self._board.clock(), zones) - timedelta(minutes=5)  # clock skew margin

    async def _follow(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        loop = asyncio.get_running_loop()
        check_every = self._settings.partition_check_seconds
        next_check = loop.time() + check_every
        while True:
            if loop.time() >= next_check:
                await self._add_new_partitions(consumer, producer)
                next_check = loop.time() + check_every
            batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
            for records in batch.values():
                for record in records:
                    await self._handle(record, producer, live=True)
                    await asyncio.sleep(0)  # let sockets drain between changes of a burst
            await self._resync_stale(consumer, producer)
            for tp in consumer.assignment():
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    lag = highwater - await consumer.position(tp)
                    self._metrics.consumer_lag.labels(str(tp.partition)).set(lag)

    async def _add_new_partitions(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        """Start reading partitions added to the topic since the session began, from today's start."""
        assigned = set(consumer.assignment())
        new = [tp for tp in await self._partitions(producer) if tp not in assigned]
        if not new:
            return
        # assign() forgets positions: keep where every partition already read stands.
        positions = {tp: await consumer.position(tp) for tp in assigned}
        consumer.assign([*assigned, *new])
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        await _seek_to(consumer, new, self._day_start())
        log.info("reading %d new partition(s) of %s", len(new), self._settings.events_topic)

    async def _handle(self, record: ConsumerRecord, producer: AIOKafkaProducer, *, live: bool) -> None:
        event: CloudEvent | None = None
        try:
            if record.value is None:
                raise MalformedEventError("not JSON: empty record")
            event = decode(record.value)
            tp = TopicPartition(record.topic, record.partition)
            self._partitions_of.setdefault(event.branchid, set()).add(tp)
            change = self._board.fold(event, live=live)
        except SequenceGapError as exc:
            log.warning("branch %s: %s; re-reading it from the log", event and event.branchid, exc)
            if event is not None:
                self._stale.add(event.branchid)
            return
        except (EventError, DisplayError) as exc:
            await self._refuse(record, producer, exc, event)
            return
        except Exception as exc:  # a bug met by one event: it must not stop the stream (poison)
            log.exception("folding %s[%s]@%s failed", record.topic, record.partition, record.offset)
            await self._refuse(record, producer, exc, event)
            return
        self._processed(event.type.value).inc()
        if change is None:
            return
        if change.reset:
            self._hub.resync(event.branchid)
        else:
            self._hub.publish(event.branchid, change)
        lag = (self._board.clock() - event.time).total_seconds()
        self._metrics.event_lag.observe(max(lag, 0.0))
        audio_url = change.message.get("audio_url")
        if isinstance(audio_url, str):
            key = audio_url.rsplit("/", 1)[-1].removesuffix(".wav")
            task = asyncio.create_task(self._board.audio.prewarm(key))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _refuse(
        self, record: ConsumerRecord, producer: AIOKafkaProducer, exc: Exception, event: CloudEvent | None
    ) -> None:
        if event is not None:
            self._board.spend(event.branchid, event.sequence, event.id)
        elif isinstance(exc, InvalidDataError) and exc.branchid is not None and exc.sequence is not None:
            self._board.spend(exc.branchid, exc.sequence, exc.event_id)
        await self._dead_letter(record, producer, exc)

    async def _resync_stale(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        while self._stale:
            branch_id = self._stale.pop()
            await self._resync(consumer, producer, branch_id)

    async def _resync(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, branch_id: str) -> None:
        """Fold ``branch_id`` afresh from its trusted chain of today's events in the log."""
        found: list[tuple[CloudEvent, ConsumerRecord]] = []
        spent: set[int] = set()
        for tp in sorted(self._partitions_of.get(branch_id, ()), key=lambda p: (p.topic, p.partition)):
            events, unusable = await self._reread(consumer, tp, branch_id)
            found.extend(events)
            spent |= unusable
        chain, rejected = screen.trusted_chain([event for event, _ in found], spent)
        record_of = {id(event): record for event, record in found}
        by_sequence: dict[int, CloudEvent | None] = {seq: None for seq in spent}
        by_sequence.update({event.sequence: event for event in chain})
        self._board.forget(branch_id)
        for seq in sorted(by_sequence):
            event = by_sequence[seq]
            if event is None:  # an unusable record's sequence: used up, so the next is no gap
                self._board.spend(branch_id, seq, None)
                continue
            try:
                self._board.fold(event, live=False)  # its screens get a snapshot below
            except DisplayError as exc:
                await self._refuse(record_of[id(event)], producer, exc, event)
        for event in rejected:
            gap = SequenceGapError(f"sequence {event.sequence} is outside the branch's chain in the log")
            await self._dead_letter(record_of[id(event)], producer, gap)
        log.info(
            "branch %s re-read from the log: %d event(s), %d refused", branch_id, len(chain), len(rejected)
        )
        if self._board.ready:
            self._hub.resync(branch_id)

    async def _reread(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, branch_id: str
    ) -> tuple[list[tuple[CloudEvent, ConsumerRecord]], set[int]]:
        """The branch's valid events on ``tp`` from the day's start up to the current position,
        and the sequences of its records whose data could not be used."""
        stop = await consumer.position(tp)
        await _seek_to(consumer, [tp], self._day_start())
        found: list[tuple[CloudEvent, ConsumerRecord]] = []
        spent: set[int] = set()
        while await consumer.position(tp) < stop:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=5000)
            for record in batch.get(tp, []):
                if record.offset >= stop or record.value is None:
                    continue
                try:
                    event = decode(record.value)
                except InvalidDataError as exc:  # dead-lettered when first read; its sequence is used
                    if exc.branchid == branch_id and exc.sequence is not None:
                        spent.add(exc.sequence)
                    continue
                except EventError:
                    continue  # dead-lettered when first read
                if event.branchid == branch_id:
                    found.append((event, record))
        consumer.seek(tp, stop)  # records read past the stop are read again, as live ones
        return found, spent

    async def _dead_letter(self, record: ConsumerRecord, producer: AIOKafkaProducer, exc: Exception) -> None:
        await self._dlq.send(producer, record, Reason(dlq_reason(exc)), str(exc))
