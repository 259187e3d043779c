"""PostgreSQL storage of the metrics' facts and aggregates (asyncpg).

:meth:`MetricsStore.apply` is the exactly-once step: in one transaction per
batch (a whole poll of every partition) it skips the event ids already
processed, loads the ticket and counter facts the batch touches (locked),
folds the events in order, marks the applied ones processed and writes the
facts, counter totals and histogram buckets, one statement per table. A
redelivered or replayed event therefore changes nothing.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from services.events import CloudEvent
from services.metrics.aggregates import CounterFact, Labels, TicketFact
from services.metrics.batch import BatchResult, HistogramDelta, Outcome, event_key, fold_batch, touched
from services.metrics.errors import StoreError, UnstorableData
from services.metrics.exporter import HistogramRow, QueueRow, Snapshot, month_start
from services.metrics.ikm import ELEMENT_COUNT, Tally
from services.metrics.migrate import migrate
from services.metrics.reports import Suggestion

logger = logging.getLogger(__name__)

_TICKET_COLUMNS = (
    "ticket_id, branch_id, agency_id, service_id, channel, business_date, issued_at, status,"
    " estimated_wait_seconds, target_wait_seconds, counter_id, waiting_since, first_called_at,"
    " called_at, serving_at, completed_at, slot_start"
)
# One statement for a whole batch: every column as an array, unnested into rows.
_TICKET_TYPES = (
    ["text"] * 5 + ["date", "timestamptz", "text", "integer", "integer", "text"] + ["timestamptz"] * 6
)
_TICKET_ARRAYS = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_TICKET_TYPES, 1))
_UPSERT_TICKETS = f"""
INSERT INTO tickets ({_TICKET_COLUMNS}) SELECT * FROM unnest({_TICKET_ARRAYS})
ON CONFLICT (ticket_id) DO UPDATE SET
    agency_id = EXCLUDED.agency_id, service_id = EXCLUDED.service_id, channel = EXCLUDED.channel,
    business_date = EXCLUDED.business_date, issued_at = EXCLUDED.issued_at, status = EXCLUDED.status,
    estimated_wait_seconds = EXCLUDED.estimated_wait_seconds,
    target_wait_seconds = EXCLUDED.target_wait_seconds, counter_id = EXCLUDED.counter_id,
    waiting_since = EXCLUDED.waiting_since, first_called_at = EXCLUDED.first_called_at,
    called_at = EXCLUDED.called_at, serving_at = EXCLUDED.serving_at, completed_at = EXCLUDED.completed_at,
    slot_start = EXCLUDED.slot_start
"""  # noqa: S608 - constants
_UPSERT_COUNTERS = """
INSERT INTO counters (branch_id, counter_id, status, active_ticket_id, idle_since, idle_seconds)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::float8[])
ON CONFLICT (branch_id, counter_id) DO UPDATE SET
    status = EXCLUDED.status, active_ticket_id = EXCLUDED.active_ticket_id,
    idle_since = EXCLUDED.idle_since, idle_seconds = EXCLUDED.idle_seconds
"""
_ADD_TOTALS = """
INSERT INTO counter_totals (metric, labels, value)
SELECT m, l::jsonb, v FROM unnest($1::text[], $2::text[], $3::float8[]) AS t(m, l, v)
ON CONFLICT (metric, labels) DO UPDATE SET value = counter_totals.value + EXCLUDED.value
"""
_OBSERVE = """
INSERT INTO histogram_totals (metric, labels, buckets, sum, count)
SELECT m, l::jsonb, b::bigint[], s, c
FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::bigint[]) AS h(m, l, b, s, c)
ON CONFLICT (metric, labels) DO UPDATE SET
    buckets = (SELECT array_agg(a + b ORDER BY i)
               FROM unnest(histogram_totals.buckets, EXCLUDED.buckets) WITH ORDINALITY AS u(a, b, i)),
    sum = histogram_totals.sum + EXCLUDED.sum,
    count = histogram_totals.count + EXCLUDED.count
"""


def _columns(rows: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows (at least one) turned into one tuple per column: the arrays an ``unnest`` statement takes.

    The facts are named tuples whose fields are in the order of their table's columns.
    """
    return list(zip(*rows, strict=True))


# Waiting tickets per service and business day; services with none get one row of 0.
_QUEUES = """
SELECT k.branch_id, k.agency_id, k.service_id, t.business_date,
       count(t.ticket_id) AS waiting, min(t.waiting_since) AS oldest
FROM queue_keys k
LEFT JOIN tickets t ON t.status = 'waiting' AND t.branch_id = k.branch_id AND t.agency_id = k.agency_id
    AND t.service_id = k.service_id AND t.business_date >= $1
GROUP BY k.branch_id, k.agency_id, k.service_id, t.business_date
"""
# processed_at defaults to PostgreSQL's clock at marking: the moment the batch's effects are written.
_MARK_COLUMNS = ("event_id", "event_type", "branch_id", "sequence", "event_time")
_ADD_QUEUE_KEYS = """
INSERT INTO queue_keys (branch_id, agency_id, service_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING
"""
# One answer per ticket: a later survey for an answered ticket is ignored.
_ADD_SURVEY = """
INSERT INTO survey_responses (ticket_id, branch_id, agency_id, service_id, counter_id, submitted_at,
    local_date, scores, sex, age_group, education, occupation, saran)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (ticket_id) DO NOTHING
"""
_SURVEY_SUMS = ", ".join(f"sum(scores[{i}])::bigint AS s{i}" for i in range(1, ELEMENT_COUNT + 1))


@functools.lru_cache(maxsize=65536)  # the same label sets come back in every batch
def _labels_json(labels: Labels) -> str:
    return json.dumps(dict(labels), sort_keys=True)


def _total_rows(totals: Mapping[tuple[str, Labels], float]) -> list[tuple[str, str, float]]:
    """One row per stored label set, sorted (two writers lock the same rows in the same order).

    One statement may not update a row twice, so label sets that store alike are summed first.
    """
    rows: dict[tuple[str, str], float] = {}
    for (metric, labels), value in totals.items():
        key = (metric, _labels_json(labels))
        rows[key] = rows.get(key, 0.0) + value
    return sorted((metric, labels, value) for (metric, labels), value in rows.items())


def _histogram_rows(
    histograms: Mapping[tuple[str, Labels], HistogramDelta],
) -> list[tuple[str, str, str, float, int]]:
    """One row per stored histogram as :func:`_total_rows` makes them, the buckets as an array literal."""
    rows: dict[tuple[str, str], HistogramDelta] = {}
    for (metric, labels), delta in histograms.items():
        into = rows.setdefault((metric, _labels_json(labels)), HistogramDelta([0] * len(delta.buckets)))
        into.buckets = [a + b for a, b in zip(into.buckets, delta.buckets, strict=True)]
        into.sum += delta.sum
        into.count += delta.count
    return sorted(
        (metric, labels, "{" + ",".join(map(str, d.buckets)) + "}", d.sum, d.count)
        for (metric, labels), d in rows.items()
    )


def _labels_of(raw: str) -> Labels:
    return tuple(sorted(json.loads(raw).items()))


_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@contextlib.asynccontextmanager
async def _reading(what: str) -> AsyncIterator[None]:
    """Turn a database failure while reading into a :class:`StoreError`."""
    try:
        yield
    except _DB_ERRORS as exc:
        raise StoreError(f"reading {what} failed: {exc}") from exc


async def open_pool(database_url: str, schema: str) -> Any:
    """A pool whose connections use ``schema``, migrated to the latest version."""
    try:
        pool = await asyncpg.create_pool(
            database_url, min_size=1, max_size=4, server_settings={"search_path": schema}
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
    async with pool.acquire() as conn:
        await migrate(conn, schema)
    return pool


class MetricsStore:
    """The metrics' facts in PostgreSQL, behind a pool set to the service's schema."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def close(self) -> None:
        """Close the pool (idempotent)."""
        await self._pool.close()

    async def ping(self) -> None:
        """Raise :class:`StoreError` unless PostgreSQL answers."""
        try:
            async with self._pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1", timeout=2)
        except _DB_ERRORS as exc:
            raise StoreError(f"PostgreSQL does not answer: {exc}") from exc

    async def apply(self, events: Sequence[CloudEvent]) -> list[Outcome]:
        """Apply ``events`` in order, in one transaction.

        Raises :class:`StoreError` when PostgreSQL fails or another replica
        applied some of these events at the same moment; nothing is then
        written and the caller reads the batch again.
        """
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                return await self._apply(conn, events)
        except asyncpg.DataError as exc:
            raise UnstorableData(f"PostgreSQL refused data of {len(events)} events: {exc}") from exc
        except _DB_ERRORS as exc:
            raise StoreError(f"applying {len(events)} events failed: {exc}") from exc

    async def _apply(self, conn: Any, events: Sequence[CloudEvent]) -> list[Outcome]:
        keys = [event_key(event) for event in events]
        done = await conn.fetch(
            "SELECT event_id::text FROM processed_events WHERE event_id = ANY($1::uuid[])", keys
        )
        fresh = set(keys) - {r["event_id"] for r in done}
        ticket_ids, counter_ids = touched(events)
        stored = await self._tickets(conn, ticket_ids)
        result = fold_batch(events, fresh, stored, await self._counters(conn, counter_ids))
        marks = [
            (key, o.event.type.value, o.event.branchid, o.event.sequence, o.event.time)
            for key, o in zip(keys, result.outcomes, strict=True)
            if o.applied
        ]
        if marks:
            # COPY is the cheapest insert; another replica marking one of these ids meanwhile
            # makes it fail (a unique violation): nothing is written and the batch is read again.
            await conn.copy_records_to_table("processed_events", columns=_MARK_COLUMNS, records=marks)
        await self._write(conn, result, stored.keys())
        return result.outcomes

    async def _write(self, conn: Any, result: BatchResult, stored: Collection[str]) -> None:
        """Write the batch's facts and aggregate deltas, a statement per table (none for an empty one).

        Tickets not ``stored`` before are copied in (a replica inserting one of them
        meanwhile makes the copy fail and the batch is read again); the others updated.
        """
        new = [t for t in result.tickets.values() if t.ticket_id not in stored]
        if new:
            await conn.copy_records_to_table("tickets", columns=TicketFact._fields, records=new)
        if len(new) < len(result.tickets):
            known = (t for t in result.tickets.values() if t.ticket_id in stored)
            await conn.execute(_UPSERT_TICKETS, *_columns(known))
        if result.counters:
            await conn.execute(_UPSERT_COUNTERS, *_columns(result.counters.values()))
        if result.queue_keys:
            await conn.execute(_ADD_QUEUE_KEYS, *_columns(sorted(result.queue_keys)))
        if result.surveys:
            await conn.executemany(_ADD_SURVEY, list(result.surveys.values()))
        if result.totals:
            await conn.execute(_ADD_TOTALS, *_columns(_total_rows(result.totals)))
        if result.histograms:
            await conn.execute(_OBSERVE, *_columns(_histogram_rows(result.histograms)))

    async def _tickets(self, conn: Any, ticket_ids: set[str]) -> dict[str, TicketFact]:
        if not ticket_ids:
            return {}
        rows = await conn.fetch(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE ticket_id = ANY($1::text[])"  # noqa: S608 - constants
            " ORDER BY ticket_id FOR UPDATE",
            sorted(ticket_ids),
        )
        return {r["ticket_id"]: TicketFact(**dict(r)) for r in rows}

    async def _counters(self, conn: Any, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], CounterFact]:
        if not pairs:
            return {}
        ordered = sorted(pairs)
        rows = await conn.fetch(
            "SELECT c.branch_id, c.counter_id, c.status, c.active_ticket_id, c.idle_since, c.idle_seconds"
            " FROM counters c JOIN unnest($1::text[], $2::text[]) AS k(branch_id, counter_id)"
            " USING (branch_id, counter_id) ORDER BY c.branch_id, c.counter_id FOR UPDATE OF c",
            [b for b, _ in ordered],
            [c for _, c in ordered],
        )
        return {(r["branch_id"], r["counter_id"]): CounterFact(**dict(r)) for r in rows}

    async def purge_processed(self, before: datetime, batch: int = 10_000) -> int:
        """Forget the processed marks of events older than ``before``; return how many.

        Deletes in batches of ``batch`` rows, each its own short transaction, so a
        large purge never holds locks for long.
        """
        total = 0
        async with _reading("purging processed marks"), self._pool.acquire() as conn:
            while True:
                status = await conn.execute(
                    "DELETE FROM processed_events WHERE event_id IN"
                    " (SELECT event_id FROM processed_events WHERE event_time < $1 LIMIT $2)",
                    before,
                    batch,
                )
                deleted = int(status.split()[-1])
                total += deleted
                if deleted < batch:
                    return total

    async def tickets_of_day(self, branch_id: str, day: date) -> list[TicketFact]:
        """Every ticket of ``branch_id`` on business day ``day``."""
        async with _reading("the day's tickets"):
            rows = await self._pool.fetch(
                f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE branch_id = $1 AND business_date = $2",  # noqa: S608
                branch_id,
                day,
            )
        return [TicketFact(**dict(r)) for r in rows]

    async def suggestions_of_day(self, branch_id: str, day: date) -> list[Suggestion]:
        """The survey answers of ``branch_id`` on local day ``day`` that carry a saran or a profile."""
        async with _reading("the day's suggestions"):
            rows = await self._pool.fetch(
                "SELECT submitted_at, agency_id AS agency, service_id AS service, counter_id AS counter, sex,"
                " age_group, education, occupation, saran FROM survey_responses"
                " WHERE branch_id = $1 AND local_date = $2"
                " AND num_nonnulls(saran, sex, age_group, education, occupation) > 0 ORDER BY submitted_at",
                branch_id,
                day,
            )
        return [Suggestion(**dict(r)) for r in rows]

    async def survey_tally(
        self,
        branch_id: str,
        first: date,
        last: date,
        agency_id: str | None = None,
        counter_id: str | None = None,
    ) -> Tally:
        """The survey answers of a branch from ``first`` to ``last`` (local dates, inclusive)."""
        async with _reading("survey answers"):
            row = await self._pool.fetchrow(
                f"SELECT count(*) AS n, {_SURVEY_SUMS} FROM survey_responses"  # noqa: S608 - constants
                " WHERE branch_id = $1 AND local_date BETWEEN $2 AND $3"
                " AND ($4::text IS NULL OR agency_id = $4) AND ($5::text IS NULL OR counter_id = $5)",
                branch_id,
                first,
                last,
                agency_id,
                counter_id,
            )
        return _tally(row)

    async def snapshot(self, now: datetime) -> Snapshot:
        """Everything the exporter shows at ``now`` (waiting tickets of recent days, this month's surveys)."""
        recent = now.date() - timedelta(days=1)  # every branch's "today" is on or after this date
        async with (
            _reading("the snapshot"),
            self._pool.acquire(timeout=5) as conn,
            conn.transaction(readonly=True),
        ):
            totals = await conn.fetch("SELECT metric, labels::text AS labels, value FROM counter_totals")
            histograms = await conn.fetch(
                "SELECT metric, labels::text AS labels, buckets, sum, count FROM histogram_totals"
            )
            queues = await conn.fetch(
                _QUEUES,
                recent,
            )
            counters = await conn.fetch(
                "SELECT branch_id, counter_id, status, active_ticket_id, idle_since, idle_seconds"
                " FROM counters"
            )
            surveys = await conn.fetch(
                "SELECT branch_id, agency_id, counter_id, to_char(local_date, 'YYYY-MM') AS month,"  # noqa: S608
                f" count(*) AS n, {_SURVEY_SUMS} FROM survey_responses WHERE local_date >= $1"
                " GROUP BY branch_id, agency_id, counter_id, month",
                month_start(now),
            )
        return Snapshot(
            totals=[(r["metric"], _labels_of(r["labels"]), r["value"]) for r in totals],
            histograms=[
                HistogramRow(r["metric"], _labels_of(r["labels"]), tuple(r["buckets"]), r["sum"], r["count"])
                for r in histograms
            ],
            queues=[
                QueueRow(
                    r["branch_id"],
                    r["agency_id"],
                    r["service_id"],
                    r["business_date"],
                    r["waiting"],
                    r["oldest"],
                )
                for r in queues
            ],
            counters=[CounterFact(**dict(r)) for r in counters],
            surveys=[
                (r["branch_id"], r["agency_id"], r["counter_id"], r["month"], _tally(r)) for r in surveys
            ],
        )


def _tally(row: Any) -> Tally:
    if row is None or not row["n"]:
        return Tally.empty()
    return Tally(int(row["n"]), tuple(int(row[f"s{i}"]) for i in range(1, ELEMENT_COUNT + 1)))
