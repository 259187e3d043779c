"""PostgreSQL storage of the metrics' facts and aggregates (asyncpg).

:meth:`MetricsStore.apply` is the exactly-once step: for each event, in one
transaction, it marks the event id processed (a repeated id changes
nothing), loads the ticket and counter facts, folds the event and writes the
effect: facts, counter totals and histogram buckets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

import asyncpg

from services.events import CloudEvent
from services.metrics.aggregates import (
    HISTOGRAM_BUCKETS,
    CounterFact,
    Effect,
    Labels,
    TicketFact,
    counter_of,
    fold,
    ticket_of,
)
from services.metrics.errors import InvalidEventData, StoreError
from services.metrics.exporter import HistogramRow, QueueRow, Snapshot
from services.metrics.ikm import ELEMENT_COUNT, Tally
from services.metrics.migrate import migrate

logger = logging.getLogger(__name__)

_TICKET_COLUMNS = (
    "ticket_id, branch_id, agency_id, service_id, channel, business_date, issued_at, status,"
    " estimated_wait_seconds, target_wait_seconds, counter_id, waiting_since, first_called_at,"
    " called_at, serving_at, completed_at"
)
_UPSERT_TICKET = """
INSERT INTO tickets (ticket_id, branch_id, agency_id, service_id, channel, business_date, issued_at, status,
    estimated_wait_seconds, target_wait_seconds, counter_id, waiting_since, first_called_at, called_at,
    serving_at, completed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (ticket_id) DO UPDATE SET
    agency_id = EXCLUDED.agency_id, service_id = EXCLUDED.service_id, channel = EXCLUDED.channel,
    business_date = EXCLUDED.business_date, issued_at = EXCLUDED.issued_at, status = EXCLUDED.status,
    estimated_wait_seconds = EXCLUDED.estimated_wait_seconds,
    target_wait_seconds = EXCLUDED.target_wait_seconds, counter_id = EXCLUDED.counter_id,
    waiting_since = EXCLUDED.waiting_since, first_called_at = EXCLUDED.first_called_at,
    called_at = EXCLUDED.called_at, serving_at = EXCLUDED.serving_at, completed_at = EXCLUDED.completed_at
"""
_UPSERT_COUNTER = """
INSERT INTO counters (branch_id, counter_id, status, active_ticket_id, idle_since, idle_seconds)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (branch_id, counter_id) DO UPDATE SET
    status = EXCLUDED.status, active_ticket_id = EXCLUDED.active_ticket_id,
    idle_since = EXCLUDED.idle_since, idle_seconds = EXCLUDED.idle_seconds
"""
_ADD_TOTAL = """
INSERT INTO counter_totals (metric, labels, value) VALUES ($1, $2::jsonb, $3)
ON CONFLICT (metric, labels) DO UPDATE SET value = counter_totals.value + EXCLUDED.value
"""
_OBSERVE = """
INSERT INTO histogram_totals (metric, labels, buckets, sum, count) VALUES ($1, $2::jsonb, $3, $4, 1)
ON CONFLICT (metric, labels) DO UPDATE SET
    buckets = (SELECT array_agg(a + b ORDER BY i)
               FROM unnest(histogram_totals.buckets, EXCLUDED.buckets) WITH ORDINALITY AS u(a, b, i)),
    sum = histogram_totals.sum + EXCLUDED.sum,
    count = histogram_totals.count + 1
"""
_SURVEY_SUMS = ", ".join(f"sum(scores[{i}])::bigint AS s{i}" for i in range(1, ELEMENT_COUNT + 1))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one event: applied, a duplicate, or refused with a reason."""

    event: CloudEvent
    effect: Effect | None = None
    duplicate: bool = False
    invalid: str | None = None


def bucket_index(bounds: Sequence[float], value: float) -> int:
    """The slot of ``value`` among non-cumulative buckets (``len(bounds)`` is +Inf)."""
    for index, bound in enumerate(bounds):
        if value <= bound:
            return index
    return len(bounds)


def _labels_json(labels: Labels) -> str:
    return json.dumps(dict(labels), sort_keys=True)


def _labels_of(raw: str) -> Labels:
    return tuple(sorted(json.loads(raw).items()))


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

    async def ping(self) -> None:
        """Raise :class:`StoreError` unless PostgreSQL answers."""
        try:
            async with self._pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1", timeout=2)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"PostgreSQL does not answer: {exc}") from exc

    async def apply(
        self, events: Sequence[tuple[CloudEvent, tzinfo]], processed_at: datetime
    ) -> list[Outcome]:
        """Apply ``events`` (each with its branch's time zone) in one transaction, in order."""
        outcomes: list[Outcome] = []
        async with self._pool.acquire() as conn, conn.transaction():
            for event, zone in events:
                outcomes.append(await self._apply_one(conn, event, zone, processed_at))
        return outcomes

    async def _apply_one(self, conn: Any, event: CloudEvent, zone: tzinfo, processed_at: datetime) -> Outcome:
        try:
            ticket_id = ticket_of(event)
            counter_id = counter_of(event)
        except InvalidEventData as exc:
            return Outcome(event, invalid=str(exc))
        ticket = None if ticket_id is None else await self._ticket(conn, ticket_id)
        counter = None if counter_id is None else await self._counter(conn, event.branchid, counter_id)
        try:
            effect = fold(event, ticket, counter, zone)
        except InvalidEventData as exc:
            return Outcome(event, invalid=str(exc))
        marked = await conn.fetchval(
            "INSERT INTO processed_events (event_id, event_type, branch_id, sequence, event_time,"
            " processed_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING RETURNING true",
            event.id,
            event.type.value,
            event.branchid,
            event.sequence,
            event.time,
            processed_at,
        )
        if not marked:
            return Outcome(event, duplicate=True)
        await self._write(conn, effect)
        return Outcome(event, effect=effect)

    async def _write(self, conn: Any, effect: Effect) -> None:
        if effect.ticket is not None:
            t = effect.ticket
            await conn.execute(
                _UPSERT_TICKET,
                t.ticket_id,
                t.branch_id,
                t.agency_id,
                t.service_id,
                t.channel,
                t.business_date,
                t.issued_at,
                t.status,
                t.estimated_wait_seconds,
                t.target_wait_seconds,
                t.counter_id,
                t.waiting_since,
                t.first_called_at,
                t.called_at,
                t.serving_at,
                t.completed_at,
            )
        if effect.counter is not None:
            c = effect.counter
            await conn.execute(
                _UPSERT_COUNTER,
                c.branch_id,
                c.counter_id,
                c.status,
                c.active_ticket_id,
                c.idle_since,
                c.idle_seconds,
            )
        if effect.queue_key is not None:
            await conn.execute(
                "INSERT INTO queue_keys (branch_id, agency_id, service_id) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING",
                *effect.queue_key,
            )
        if effect.survey is not None:
            s = effect.survey
            # One answer per ticket: a second survey for the same ticket is ignored.
            await conn.execute(
                "INSERT INTO survey_responses (ticket_id, branch_id, agency_id, service_id, counter_id,"
                " submitted_at, local_date, scores) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (ticket_id) DO NOTHING",
                s.ticket_id,
                s.branch_id,
                s.agency_id,
                s.service_id,
                s.counter_id,
                s.submitted_at,
                s.local_date,
                list(s.scores),
            )
        for inc in effect.increments:
            await conn.execute(_ADD_TOTAL, inc.metric, _labels_json(inc.labels), inc.amount)
        for obs in effect.observations:
            bounds = HISTOGRAM_BUCKETS[obs.metric]
            slots = [0] * (len(bounds) + 1)
            slots[bucket_index(bounds, obs.value)] = 1
            await conn.execute(_OBSERVE, obs.metric, _labels_json(obs.labels), slots, obs.value)

    async def _ticket(self, conn: Any, ticket_id: str) -> TicketFact | None:
        row = await conn.fetchrow(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE ticket_id = $1 FOR UPDATE",  # noqa: S608 - constants
            ticket_id,
        )
        return None if row is None else TicketFact(**dict(row))

    async def _counter(self, conn: Any, branch_id: str, counter_id: str) -> CounterFact | None:
        row = await conn.fetchrow(
            "SELECT branch_id, counter_id, status, active_ticket_id, idle_since, idle_seconds"
            " FROM counters WHERE branch_id = $1 AND counter_id = $2 FOR UPDATE",
            branch_id,
            counter_id,
        )
        return None if row is None else CounterFact(**dict(row))

    async def tickets_of_day(self, branch_id: str, day: date) -> list[TicketFact]:
        """Every ticket of ``branch_id`` on business day ``day``."""
        rows = await self._pool.fetch(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE branch_id = $1 AND business_date = $2",  # noqa: S608
            branch_id,
            day,
        )
        return [TicketFact(**dict(r)) for r in rows]

    async def survey_tally(
        self,
        branch_id: str,
        first: date,
        last: date,
        agency_id: str | None = None,
        counter_id: str | None = None,
    ) -> Tally:
        """The survey answers of a branch from ``first`` to ``last`` (local dates, inclusive)."""
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

    async def snapshot(self, since: date) -> Snapshot:
        """Everything the exporter shows; survey tallies from local date ``since`` on."""
        async with self._pool.acquire(timeout=5) as conn, conn.transaction(readonly=True):
            totals = await conn.fetch("SELECT metric, labels::text AS labels, value FROM counter_totals")
            histograms = await conn.fetch(
                "SELECT metric, labels::text AS labels, buckets, sum, count FROM histogram_totals"
            )
            queues = await conn.fetch(
                "SELECT k.branch_id, k.agency_id, k.service_id, count(t.ticket_id) AS waiting,"
                " min(t.waiting_since) AS oldest FROM queue_keys k LEFT JOIN tickets t"
                " ON t.status = 'waiting' AND t.branch_id = k.branch_id AND t.agency_id = k.agency_id"
                " AND t.service_id = k.service_id GROUP BY k.branch_id, k.agency_id, k.service_id"
            )
            counters = await conn.fetch(
                "SELECT branch_id, counter_id, status, active_ticket_id, idle_since, idle_seconds"
                " FROM counters"
            )
            surveys = await conn.fetch(
                f"SELECT branch_id, agency_id, to_char(local_date, 'YYYY-MM') AS month, count(*) AS n,"  # noqa: S608
                f" {_SURVEY_SUMS} FROM survey_responses WHERE local_date >= $1"
                " GROUP BY branch_id, agency_id, month",
                since,
            )
        return Snapshot(
            totals=[(r["metric"], _labels_of(r["labels"]), r["value"]) for r in totals],
            histograms=[
                HistogramRow(r["metric"], _labels_of(r["labels"]), tuple(r["buckets"]), r["sum"], r["count"])
                for r in histograms
            ],
            queues=[
                QueueRow(r["branch_id"], r["agency_id"], r["service_id"], r["waiting"], r["oldest"])
                for r in queues
            ],
            counters=[CounterFact(**dict(r)) for r in counters],
            surveys=[(r["branch_id"], r["agency_id"], r["month"], _tally(r)) for r in surveys],
        )


def _tally(row: Any) -> Tally:
    if row is None or not row["n"]:
        return Tally.empty()
    return Tally(int(row["n"]), tuple(int(row[f"s{i}"]) for i in range(1, ELEMENT_COUNT + 1)))
