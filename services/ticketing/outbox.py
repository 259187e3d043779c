"""The transactional outbox and its relay to Kafka.

``enqueue`` writes an event in the caller's transaction, so a state change
and its event commit together or not at all. ``OutboxRelay`` publishes the
committed rows to Kafka:

* it wakes on ``LISTEN antrian_outbox`` and also polls, so a lost
  notification delays an event by at most one poll interval;
* one branch is handled by one relay at a time (a PostgreSQL advisory lock
  per branch), so several relay instances never reorder a branch;
* each row gets the branch's next ``sequence`` in a committed transaction
  *before* it is sent, and keeps it if sending fails: a retry re-sends the
  same id and sequence, which consumers recognise as a duplicate;
* rows are marked published only after Kafka acknowledged them (idempotent
  producer, ``acks=all``); while Kafka is down the rows wait, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter as Tally
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge

from services.events import CloudEvent, EventError, decode, encode
from services.platform.backoff import Backoff
from services.platform.outage import OutageLog

log = logging.getLogger(__name__)

CHANNEL = "antrian_outbox"
BATCH_SIZE = 500
RETENTION_SECONDS = 7 * 24 * 3600  # published rows kept a week for audits
# The largest record the relay sends; the topic's max.message.bytes (deploy/local/ensure_topics.py)
# is larger, so the broker never refuses what the relay sends, and nothing larger enters the log.
MAX_REQUEST_BYTES = 256 * 1024

# The branches with pending rows, how many each, and whether this session got the
# branch's advisory lock (one relay instance per branch at a time). $1: the lock key's prefix.
_PENDING_BRANCHES_LOCKED = """
SELECT branch_id, n, pg_try_advisory_lock(hashtext($1 || branch_id)) AS locked
  FROM (SELECT branch_id, count(*) AS n FROM outbox
         WHERE published_at IS NULL AND error IS NULL GROUP BY branch_id) AS pending
"""

# Numbers the locked branches' pending rows without a sequence, per branch in id order
# after the branch's last sequence (at most $2 per branch), and returns them together
# with rows numbered earlier but not yet published (a failed send), in one statement:
# so the numbering is atomic. The second SELECT sees the rows as they were before the
# UPDATE, so it only finds the earlier ones. $1: branch ids.
_SEQUENCE_AND_BATCH = """
WITH fresh AS (
    SELECT id, branch_id, row_number() OVER (PARTITION BY branch_id ORDER BY id) AS rn
      FROM outbox
     WHERE branch_id = ANY($1::text[]) AND published_at IS NULL AND error IS NULL AND sequence IS NULL
),
batch AS (SELECT id, branch_id, rn FROM fresh WHERE rn <= $2),
counts AS (SELECT branch_id, count(*) AS n FROM batch GROUP BY branch_id),
bumped AS (
    INSERT INTO branch_sequences AS b (branch_id, last_sequence)
    SELECT branch_id, n FROM counts
    ON CONFLICT (branch_id) DO UPDATE SET last_sequence = b.last_sequence + excluded.last_sequence
    RETURNING b.branch_id, b.last_sequence
),
numbered AS (
    UPDATE outbox o
       SET sequence = bumped.last_sequence - counts.n + batch.rn
      FROM batch JOIN counts USING (branch_id) JOIN bumped USING (branch_id)
     WHERE o.id = batch.id
    RETURNING o.id, o.branch_id, o.event, o.sequence
)
SELECT id, branch_id, event, sequence FROM numbered
UNION ALL
SELECT id, branch_id, event, sequence FROM outbox
 WHERE branch_id = ANY($1::text[]) AND published_at IS NULL AND error IS NULL AND sequence IS NOT NULL
ORDER BY branch_id, sequence
"""

# Marks the acknowledged rows published. It commits on its own, before the branches'
# locks are let go: a lock released inside this statement would be free before the
# commit, and another relay could take it and send the still-unpublished rows again.
_MARK_PUBLISHED = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"


async def enqueue(conn: asyncpg.Connection, event: CloudEvent) -> None:
    """Add ``event`` to the outbox inside the caller's open transaction."""
    if not conn.is_in_transaction():
        raise RuntimeError("enqueue() must run inside the transaction of the state change")
    # The event goes in as JSON text cast to jsonb: a connection with a jsonb
    # codec registered would encode this text a second time, so pools that
    # call enqueue() must keep asyncpg's default (text) jsonb handling.
    await conn.execute(
        "INSERT INTO outbox (branch_id, event_id, event_type, event) VALUES ($1, $2, $3, $4::jsonb)",
        event.branchid,
        event.id,
        event.type.value,
        event_text(event),
    )


def event_text(event: CloudEvent) -> str:
    """The JSON text an outbox row holds for ``event`` (the relay adds the sequence)."""
    return json.dumps(event.to_dict(), ensure_ascii=False)


class RelayMetrics:
    """The relay's Prometheus instruments, registered once per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.backlog = Gauge("qms_outbox_backlog", "Outbox events not yet published", registry=registry)
        self.published = Counter(
            "qms_outbox_published", "Outbox events acknowledged by Kafka", registry=registry
        )
        self.errors = Counter(
            "qms_outbox_publish_errors", "Failed attempts to publish outbox events", registry=registry
        )


class OutboxRelay:
    """Publishes committed outbox rows to Kafka in per-branch order."""

    def __init__(
        self,
        *,
        dsn: str,
        schema: str,
        bootstrap_servers: str,
        topic: str,
        registry: CollectorRegistry | None = None,
        poll_interval: float = 1.0,
        request_timeout_ms: int = 10_000,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._kafka_options = dict(kafka_options or {})
        self._dsn = dsn
        self._schema = schema
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._poll = poll_interval
        self._request_timeout_ms = request_timeout_ms
        self._metrics = RelayMetrics(registry if registry is not None else CollectorRegistry())
        self._wake = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stalled = False
        self._last_cleanup = 0.0
        self._kafka_outage = OutageLog(log, "outbox relay: Kafka")
        self._db_outage = OutageLog(log, "outbox relay: database")

    @property
    def kafka_connected(self) -> bool:
        """True while the relay holds a started producer that Kafka answers."""
        return self._producer is not None and not self._stalled

    async def start(self) -> None:
        """Open the database connections and start relaying in the background."""
        settings = {"search_path": self._schema, "application_name": "antrian-outbox-relay"}
        self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=2, server_settings=settings)
        await self._ensure_listener()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish the batch in flight, then close Kafka and the database."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            # A batch Kafka cannot acknowledge would wait for the broker: its rows
            # stay in the outbox for the next start, so do not wait for it.
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=1 if self._stalled else 15)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self._close_producer()
        if self._listener is not None:
            self._listener.remove_termination_listener(self._on_listener_lost)
            await self._listener.close()
        if self._pool is not None:
            await self._pool.close()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == self._schema:
            self._wake.set()

    def _on_listener_lost(self, _conn: object) -> None:
        log.warning("outbox relay: the LISTEN connection closed; polling until it is back")
        self._wake.set()  # the loop reopens it at once

    async def _ensure_listener(self) -> None:
        """(Re)open the LISTEN connection; polling covers the time it is away."""
        if self._listener is not None and not self._listener.is_closed():
            return
        settings = {"search_path": self._schema, "application_name": "antrian-outbox-listener"}
        listener = await asyncpg.connect(self._dsn, server_settings=settings)
        await listener.add_listener(CHANNEL, self._on_notify)
        listener.add_termination_listener(self._on_listener_lost)
        if self._listener is not None:
            log.info("outbox relay: LISTEN connection reopened")
        self._listener = listener

    async def _listen_if_possible(self) -> None:
        try:
            await self._ensure_listener()
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning("outbox relay: cannot LISTEN (%r); polling every %.1fs", exc, self._poll)

    async def _run(self) -> None:
        backoff = Backoff(0.5, 10.0)
        while not self._stopping:
            await self._listen_if_possible()
            try:
                await self._ensure_producer()
                busy = await self.relay_once()
                backoff.reset()
                self._kafka_outage.recovered()
                self._db_outage.recovered()
                if busy:
                    continue  # more may be waiting: do not sleep between batches
            except (KafkaError, OSError, TimeoutError) as exc:
                self._metrics.errors.inc()
                self._kafka_outage.failed(repr(exc))
                await self._close_producer()
                await self._sleep(backoff.next())
                continue
            except asyncpg.PostgresError as exc:
                self._db_outage.failed(repr(exc))
                await self._sleep(backoff.next())
                continue
            except Exception:  # the task's outermost loop: log and go on
                log.exception("outbox relay: unexpected error; retrying")
                await self._sleep(backoff.next())
                continue
            await self._sleep(self._poll)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def _ensure_producer(self) -> None:
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            request_timeout_ms=self._request_timeout_ms,
            max_request_size=MAX_REQUEST_BYTES,
            client_id="antrian-outbox-relay",
            **self._kafka_options,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer
        log.info("outbox relay connected to Kafka at %s", self._bootstrap)

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            # stop() flushes, which never ends while the broker is away.
            await asyncio.wait_for(producer.stop(), timeout=5)
        except TimeoutError:
            log.warning(
                "outbox relay: Kafka producer not flushed; its unacknowledged events stay in the outbox"
            )
        except (KafkaError, OSError):
            pass

    async def relay_once(self) -> bool:
        """Publish one batch of every branch with pending rows; True if any batch was full.

        A wake costs four round trips however many branches wait: one lists the
        branches with pending rows and takes their locks, one numbers their new
        rows and returns the batch, one marks the sent rows published (and
        commits), and one releases the locks. Every row is sent before any
        acknowledgement is awaited.
        """
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            branches = await conn.fetch(_PENDING_BRANCHES_LOCKED, self._lock_key())
            self._metrics.backlog.set(sum(r["n"] for r in branches))
            locked = [r["branch_id"] for r in branches if r["locked"]]
            busy = False
            try:
                if locked:
                    rows = await conn.fetch(_SEQUENCE_AND_BATCH, locked, BATCH_SIZE)
                    busy = any(n >= BATCH_SIZE for n in Tally(r["branch_id"] for r in rows).values())
                    sent = await self._publish(conn, rows) if rows else []
                    if sent:
                        await conn.execute(_MARK_PUBLISHED, sent)
                    self._metrics.published.inc(len(sent))
                    self._metrics.backlog.dec(len(sent))
            finally:
                if locked:
                    await self._unlock_branches(conn, locked)
            await self._cleanup(conn)
        return busy

    def _lock_key(self) -> str:
        return f"antrian-outbox:{self._schema}:"

    async def _unlock_branches(self, conn: asyncpg.Connection, branch_ids: list[str]) -> None:
        await conn.execute(
            "SELECT pg_advisory_unlock(hashtext($2 || b)) FROM unnest($1::text[]) AS b",
            branch_ids,
            self._lock_key(),
        )

    async def _publish(self, conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> list[int]:
        """Send ``rows`` (in branch and sequence order) and wait for Kafka's acks; the ids sent."""
        producer = self._producer
        assert producer is not None
        futures: list[asyncio.Future[Any]] = []
        sent: list[int] = []
        invalid: list[int] = []
        too_large: list[int] = []
        for row in rows:
            payload = self._payload(row)
            if payload is None:
                invalid.append(row["id"])
                continue
            if len(payload) > MAX_REQUEST_BYTES - 1024:  # room for the batch overhead
                too_large.append(row["id"])
                continue
            futures.append(await producer.send(self._topic, payload, key=row["branch_id"].encode()))
            sent.append(row["id"])
        for ids, reason in ((invalid, "invalid event"), (too_large, "event too large")):
            if ids:
                await conn.execute("UPDATE outbox SET error = $2 WHERE id = ANY($1::bigint[])", ids, reason)
        if not futures:
            return []
        try:
            await self._acknowledged(futures, len(sent))
        except KafkaError:
            # Some may have landed: they keep their ids and sequences, so the
            # retry's duplicates are recognisable downstream.
            self._metrics.errors.inc()
            raise
        log.debug("published %d events", len(sent))
        return sent

    async def _acknowledged(self, futures: list[asyncio.Future[Any]], count: int) -> None:
        """Wait for Kafka's acks; past the request timeout, say Kafka is down and keep waiting.

        The idempotent producer retries a batch until the broker is back, with the
        same producer id and sequence numbers, so waiting adds no duplicate.
        """
        acks = asyncio.gather(*futures)
        try:
            await asyncio.wait_for(asyncio.shield(acks), timeout=self._request_timeout_ms / 1000)
            return
        except TimeoutError:
            self._stalled = True
            self._metrics.errors.inc()
            log.warning(
                "outbox relay: Kafka has not acknowledged %d events in %.0fs; they stay in the outbox"
                " and are sent when it answers",
                count,
                self._request_timeout_ms / 1000,
            )
        try:
            await acks
            log.info("outbox relay: Kafka answers again")
        finally:
            self._stalled = False

    @staticmethod
    def _payload(row: asyncpg.Record) -> bytes | None:
        stored = json.loads(row["event"]) if isinstance(row["event"], str) else row["event"]
        try:
            return encode(decode({**stored, "sequence": row["sequence"]}))
        except EventError as exc:
            log.error("outbox row %s holds an invalid event and is set aside: %s", row["id"], exc)
            return None

    async def _cleanup(self, conn: asyncpg.Connection) -> None:
        now = time.monotonic()
        if now - self._last_cleanup < 3600:
            return
        self._last_cleanup = now
        deleted = await conn.execute(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)",
            float(RETENTION_SECONDS),
        )
        log.info("outbox cleanup: %s", deleted)
