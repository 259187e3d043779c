"""Housekeeping: a background loop that closes past business days and purges old idempotency keys.

Every ``TICKETING_HOUSEKEEPING_INTERVAL`` seconds, one pass:

* for each branch, cancels the waiting tickets left over from a business day
  that is over in the branch's own time zone (the rule is
  :mod:`services.ticketing.domain.dayclose`) with the reason ``day_closed``,
  each in the same transaction as its ``ticket.cancelled`` event in the
  outbox; at most ``batch_size`` tickets per transaction, so a branch with
  thousands of left-overs never holds one long transaction;
* turns parked tickets whose return window is over into no-shows
  (``ticket.no_show`` with the reason ``park_expired``), in batches as well;
* deletes idempotency keys older than :data:`IDEMPOTENCY_RETENTION` (they
  protect against kiosk retries within minutes), in batches as well.

Several ticketing replicas may run it at once. A batch locks its rows with
``FOR UPDATE SKIP LOCKED``: rows another replica (or a citizen cancelling)
holds are skipped, and a row another replica cancelled meanwhile no longer
matches ``status = 'waiting'`` when PostgreSQL re-checks it under the lock. So
no ticket is cancelled twice and no event is written twice, and a pass that
finds nothing changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from prometheus_client import CollectorRegistry, Counter

from services.events import EventType
from services.ticketing import audit, bookings, outbox
from services.ticketing.domain.dayclose import CancelReason, LeftOver, left_over
from services.ticketing.domain.lifecycle import ReturnWindow, TicketAction, TicketStatus, ticket_transition
from services.ticketing.domain.schedule import parse_zone
from services.ticketing.eventdata import ticket_event
from services.ticketing.keys import Clock
from services.ticketing.tickets import TICKET_SELECT, cancel_locked

log = logging.getLogger(__name__)

BATCH_SIZE = 200
IDEMPOTENCY_RETENTION = timedelta(days=2)
"""An idempotency key older than this is deleted."""

# LeftOver.matches in SQL. 'waiting' is a literal, not a parameter: only then
# can a prepared (generic) plan use the partial index tickets_waiting_by_day.
_LEFT_OVER = (
    TICKET_SELECT + " WHERE t.branch_id = $1 AND t.status = 'waiting' AND t.business_date < $2"
    " ORDER BY t.business_date, t.queued_at, t.number LIMIT $3 FOR UPDATE OF t SKIP LOCKED"
)
# ReturnWindow.return_by in SQL: parked_at + the window < now. 'parked' is a literal for the partial index.
_PARK_EXPIRED = (
    TICKET_SELECT + " WHERE t.status = 'parked' AND t.parked_at < $1"
    " ORDER BY t.parked_at LIMIT $2 FOR UPDATE OF t SKIP LOCKED"
)
_PURGE_KEYS = """
WITH gone AS (
  DELETE FROM idempotency_keys WHERE (branch_id, key) IN (
    SELECT branch_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING 1)
SELECT count(*) FROM gone
"""


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one housekeeping pass did."""

    day_closed: int
    keys_purged: int
    parks_expired: int = 0


async def close_days(pool: asyncpg.Pool, now: datetime, *, batch_size: int = BATCH_SIZE) -> int:
    """Cancel every branch's waiting tickets of past business days; return how many."""
    total = 0
    for branch in await pool.fetch("SELECT id, timezone FROM branches ORDER BY id"):
        try:
            rule = left_over(now, parse_zone(branch["timezone"]))
        except ValueError as exc:
            log.error("day close: branch %s skipped: %s", branch["id"], exc)
            continue
        closed = await _close_branch(pool, now, branch["id"], rule, batch_size)
        if closed:
            log.info(
                "day close: branch %s: %d waiting ticket(s) of days before %s cancelled",
                branch["id"],
                closed,
                rule.before.isoformat(),
            )
        total += closed
    return total


async def _close_branch(
    pool: asyncpg.Pool, now: datetime, branch_id: str, rule: LeftOver, batch_size: int
) -> int:
    closed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_LEFT_OVER, branch_id, rule.before, batch_size)
            if rows:
                await cancel_locked(conn, now, rows, CancelReason.DAY_CLOSED)
        closed += len(rows)
        if len(rows) < batch_size:
            return closed


async def expire_parked(
    pool: asyncpg.Pool, now: datetime, window: ReturnWindow, *, batch_size: int = BATCH_SIZE
) -> int:
    """Mark every parked ticket whose return window is over as a no-show; return how many."""
    expired = 0
    cutoff = now - timedelta(minutes=window.park_minutes)
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_PARK_EXPIRED, cutoff, batch_size)
            for row in rows:
                after = ticket_transition(TicketStatus(row["status"]), TicketAction.EXPIRE)
                await conn.execute(
                    "UPDATE tickets SET status = $2, finished_at = $3 WHERE id = $1",
                    row["id"],
                    after.value,
                    now,
                )
                gone = {**row, "status": after.value}
                event = ticket_event(
                    EventType.TICKET_NO_SHOW,
                    gone,
                    now,
                    recall_count=row["recall_count"],
                    reason="park_expired",
                )
                await outbox.enqueue(conn, event)
                log.info("parked ticket %s (%s) not returned in time: no-show", row["number"], row["id"])
        expired += len(rows)
        if len(rows) < batch_size:
            return expired


async def purge_idempotency_keys(pool: asyncpg.Pool, now: datetime, *, batch_size: int = 1000) -> int:
    """Delete idempotency keys created before ``now - IDEMPOTENCY_RETENTION``; return how many."""
    purged = 0
    while True:
        deleted: int = await pool.fetchval(_PURGE_KEYS, now - IDEMPOTENCY_RETENTION, batch_size)
        purged += deleted
        if deleted < batch_size:
            return purged


class Housekeeper:
    """Runs housekeeping passes every ``interval`` seconds in a background task."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        *,
        interval: float,
        batch_size: int = BATCH_SIZE,
        registry: CollectorRegistry | None = None,
        window: ReturnWindow | None = None,
        audit_retention_days: int = 365,
    ) -> None:
        self._audit_retention = timedelta(days=audit_retention_days)
        self._pool = pool
        self._window = window or ReturnWindow()
        self._clock = clock
        self._interval = interval
        self._batch_size = batch_size
        registry = registry if registry is not None else CollectorRegistry()
        self._closed = Counter(
            "qms_day_closed_tickets", "Waiting tickets cancelled because their day ended", registry=registry
        )
        self._errors = Counter(
            "qms_housekeeping_errors", "Housekeeping passes that failed", registry=registry
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> PassResult:
        """One pass: close past business days, expire parked tickets, purge old idempotency keys."""
        now = self._clock()
        closed = await close_days(self._pool, now, batch_size=self._batch_size)
        self._closed.inc(closed)
        expired = await expire_parked(self._pool, now, self._window, batch_size=self._batch_size)
        purged = await purge_idempotency_keys(self._pool, now)
        expired = await bookings.expire(self._pool, now)  # booking no-shows: the check-in window closed
        if expired:
            log.info("housekeeping: %d booking(s) expired", expired)
        if purged:
            log.info("housekeeping: %d idempotency key(s) purged", purged)
        purged_audit = await audit.purge(self._pool, now - self._audit_retention)
        if purged_audit:
            log.info("housekeeping: %d audit entr(ies) past retention purged", purged_audit)
        return PassResult(closed, purged, expired)

    def start(self) -> None:
        """Start the passes in the background; the first runs at once."""
        self._task = asyncio.create_task(self._run(), name="ticketing-housekeeping")

    async def stop(self) -> None:
        """Let the pass in flight finish (cancel it after 15 s), then stop."""
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=15)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
                self._errors.inc()
                log.warning("housekeeping: database unavailable (%r); next pass in %ss", exc, self._interval)
            except Exception:  # the task's outermost loop: log and go on
                self._errors.inc()
                log.exception("housekeeping: unexpected error; next pass in %ss", self._interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)
