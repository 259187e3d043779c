"""Tickets in PostgreSQL: issuing, reading with live position, cancelling, the survey.

Every change runs in one transaction together with its outbox event. Numbers
come from ``daily_numbers``: one row per service per branch-local business day,
incremented with an upsert whose row lock makes the numbers gapless and unique
under any concurrency (a refused ticket rolls its increment back).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

import asyncpg

from services.events import EventType
from services.ticketing import outbox
from services.ticketing.db import load_json
from services.ticketing.domain.calling import PriorityGroup
from services.ticketing.domain.dayclose import CancelReason
from services.ticketing.domain.estimate import average_service_seconds, estimate_wait_seconds
from services.ticketing.domain.lifecycle import TicketAction, TicketStatus, ticket_transition
from services.ticketing.domain.numbering import business_date, format_number, quota_allows
from services.ticketing.domain.schedule import (
    Schedule,
    check_issuing,
    come_back,
    next_opening,
    parse_hours,
    parse_schedule,
)
from services.ticketing.errors import (
    Conflict,
    InvalidRequest,
    IssuingRefused,
    NotFound,
    TicketingError,
    TooManyRequests,
)
from services.ticketing.eventdata import rfc3339, survey_event, ticket_event

log = logging.getLogger(__name__)

RECENT_SAMPLES = 20

TICKET_SELECT = """
SELECT t.*, s.name AS service_name, s.agency_id, a.name AS agency_name,
       s.target_wait_seconds, c.name AS counter_name, c.zone, b.timezone
  FROM tickets t
  JOIN branches b ON b.id = t.branch_id
  JOIN services s ON s.id = t.service_id
  JOIN agencies a ON a.id = s.agency_id
  LEFT JOIN counters c ON c.id = t.counter_id
"""

_AHEAD = """
SELECT
  (SELECT count(*) FROM tickets w
    WHERE w.service_id = $1 AND w.status = 'waiting' AND w.business_date = $5
      AND ((w.priority AND NOT $2) OR (w.priority = $2 AND (w.queued_at, w.number) < ($3, $4)))) AS ahead,
  (SELECT count(*) FROM counters c WHERE c.status = 'open' AND $1 = ANY (c.service_ids)) AS open_counters,
  ARRAY(SELECT extract(epoch FROM d.completed_at - d.serving_at)::float8 FROM tickets d
         WHERE d.service_id = $1 AND d.status = 'completed' AND d.serving_at IS NOT NULL
         ORDER BY d.completed_at DESC LIMIT $6) AS recent,
  (SELECT expected_service_seconds FROM services WHERE id = $1) AS expected
"""

# _AHEAD for a ticket not yet inserted, whose number is the one this statement takes:
# $4 is the service's prefix (the number is formatted as format_number does, 1..999).
_NUMBER_AND_AHEAD = """
WITH n AS (
  INSERT INTO daily_numbers AS d (service_id, business_date, last_number) VALUES ($1, $5, 1)
  ON CONFLICT (service_id, business_date) DO UPDATE SET last_number = d.last_number + 1
  RETURNING last_number
)
SELECT n.last_number,
  (SELECT count(*) FROM tickets w
    WHERE w.service_id = $1 AND w.status = 'waiting' AND w.business_date = $5
      AND ((w.priority AND NOT $2)
           OR (w.priority = $2 AND (w.queued_at, w.number) < ($3, $4 || lpad(n.last_number::text, 3, '0')))))
    AS ahead,
  (SELECT count(*) FROM counters c WHERE c.status = 'open' AND $1 = ANY (c.service_ids)) AS open_counters,
  ARRAY(SELECT extract(epoch FROM d.completed_at - d.serving_at)::float8 FROM tickets d
         WHERE d.service_id = $1 AND d.status = 'completed' AND d.serving_at IS NOT NULL
         ORDER BY d.completed_at DESC LIMIT $6) AS recent,
  (SELECT expected_service_seconds FROM services WHERE id = $1) AS expected
FROM n
"""


def branch_schedule(
    branch: Mapping[str, Any], service_hours: object = None, service_rules: object = None
) -> Schedule:
    """The issuing schedule of a branch row, narrowed to a service's own hours and rules when it has them."""
    schedule = parse_schedule(load_json(branch["schedule"]))
    hours = load_json(service_hours)
    if hours:
        schedule = schedule.with_hours(parse_hours(hours))
    rules = load_json(service_rules)
    return schedule.with_service_rules(rules) if rules else schedule


async def fetch_ticket(
    conn: asyncpg.Connection, ticket_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record:
    """The joined ticket row; NotFound when there is none."""
    sql = TICKET_SELECT + " WHERE t.id = $1" + (" FOR UPDATE OF t" if lock else "")
    row = await conn.fetchrow(sql, ticket_id)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return row


async def position_of(
    conn: asyncpg.Connection,
    *,
    service_id: str,
    priority: bool,
    queued_at: datetime,
    number: str,
    day: Any,
) -> tuple[int, int]:
    """``(position, estimated_wait_seconds)`` of a waiting ticket (position 1 = next)."""
    row = await conn.fetchrow(_AHEAD, service_id, priority, queued_at, number, day, RECENT_SAMPLES)
    assert row is not None
    average = average_service_seconds(list(row["recent"]), row["expected"])
    return row["ahead"] + 1, estimate_wait_seconds(row["ahead"], row["open_counters"], average)


async def ticket_view(
    conn: asyncpg.Connection, row: Mapping[str, Any], known: tuple[int, int] | None = None
) -> dict[str, Any]:
    """The ticket as the API shows it, with its live position and wait estimate (unless ``known``)."""
    position, estimate = known or (0, 0)
    if row["status"] == TicketStatus.WAITING and known is None:
        position, estimate = await position_of(
            conn,
            service_id=row["service_id"],
            priority=row["priority"],
            queued_at=row["queued_at"],
            number=row["number"],
            day=row["business_date"],
        )
    return {
        "id": str(row["id"]),
        "number": row["number"],
        "status": row["status"],
        "branch_id": row["branch_id"],
        "business_date": row["business_date"].isoformat(),
        "service_id": row["service_id"],
        "service_name": row["service_name"],
        "agency_id": row["agency_id"],
        "agency_name": row["agency_name"],
        "priority": row["priority"],
        "priority_group": row["priority_group"],
        "channel": row["channel"],
        "issued_at": rfc3339(row["issued_at"]),
        "called_at": rfc3339(row["called_at"]),
        "serving_at": rfc3339(row["serving_at"]),
        "completed_at": rfc3339(row["completed_at"]),
        "counter_id": row["counter_id"],
        "counter_name": row["counter_name"],
        "recall_count": row["recall_count"],
        "cancel_reason": row["cancel_reason"],
        "position": position,
        "estimated_wait_seconds": estimate,
        "estimated_wait_at_issue_seconds": row["estimated_wait_seconds"],
    }


async def get_ticket(pool: asyncpg.Pool, ticket_id: uuid.UUID) -> dict[str, Any]:
    """Read one ticket as it stands now."""
    async with pool.acquire() as conn:
        return await ticket_view(conn, await fetch_ticket(conn, ticket_id))


async def issue_ticket(
    pool: asyncpg.Pool,
    now: datetime,
    *,
    branch_id: str,
    service_id: str,
    channel: str,
    priority: bool,
    priority_group: PriorityGroup | None,
    idempotency_key: str | None,
    client_key: str | None = None,
    share: float = 1.0,
) -> tuple[dict[str, Any], bool]:
    """Issue a ticket; return ``(ticket, created)``. A known idempotency key returns its ticket.

    ``client_key`` names the (pseudonymous) address of a rate-limited caller,
    who may take at most ``share`` of the service's daily quota; None: exempt.
    """
    async with pool.acquire() as conn:
        if idempotency_key is not None:
            existing = await conn.fetchval(
                "SELECT ticket_id FROM idempotency_keys WHERE branch_id = $1 AND key = $2",
                branch_id,
                idempotency_key,
            )
            if existing is not None:
                row = await fetch_ticket(conn, existing)
                asked = (
                    service_id,
                    channel,
                    priority or priority_group is not None,
                    priority_group.value if priority_group else None,
                )
                if asked != (
                    row["issued_service_id"],
                    row["channel"],
                    row["priority"],
                    row["priority_group"],
                ):
                    raise InvalidRequest(
                        f"Idempotency-Key {idempotency_key!r} was already used for a different ticket request"
                        f" (ticket {row['number']}); use a new key for a new request"
                    )
                return await ticket_view(conn, row), False
        branch, service = await _branch_and_service(conn, branch_id, service_id)
        schedule = branch_schedule(branch, service["hours"], service["schedule"])
        check_issuing(schedule, now)
        _check_not_stopped(service, business_date(now, schedule.timezone))
        ticket_id = uuid.uuid4()
        async with conn.transaction():
            if idempotency_key is not None:
                claimed = await conn.fetchval(
                    "INSERT INTO idempotency_keys (branch_id, key, ticket_id, created_at)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING ticket_id",
                    branch_id,
                    idempotency_key,
                    ticket_id,
                    now,
                )
                if claimed is None:  # a concurrent retry with the same key won
                    raise _Replay("idempotency key claimed by a concurrent request")
            if client_key is not None and service["daily_quota"]:
                await _take_share(conn, now, service, schedule, client_key, share)
            row, known = await _insert_ticket(
                conn, now, branch, service, schedule, ticket_id, channel, priority, priority_group
            )
            view = await ticket_view(conn, row, known)
            issued = ticket_event(
                EventType.TICKET_ISSUED,
                row,
                now,
                with_counter=False,
                position=view["position"],
                estimated_wait_seconds=view["estimated_wait_seconds"],
                target_wait_seconds=row["target_wait_seconds"],
            )
            await outbox.enqueue(conn, issued)
        log.info("issued ticket %s %s at %s (%s)", row["number"], ticket_id, branch_id, service_id)
        return view, True


async def _take_share(
    conn: asyncpg.Connection,
    now: datetime,
    service: Mapping[str, Any],
    schedule: Schedule,
    client_key: str,
    share: float,
) -> None:
    """Count one ticket for ``client_key``; TooManyRequests past its share of the daily quota."""
    day = business_date(now, schedule.timezone)
    allowed = max(1, math.floor(share * service["daily_quota"]))
    taken = await conn.fetchval(
        "INSERT INTO issue_shares AS s (service_id, business_date, client_key, issued) VALUES ($1, $2, $3, 1)"
        " ON CONFLICT (service_id, business_date, client_key) DO UPDATE SET issued = s.issued + 1"
        " RETURNING issued",
        service["id"],
        day,
        client_key,
    )
    if taken > allowed:
        midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=schedule.timezone)
        log.warning("issuing share of %s exhausted by one address (%d tickets)", service["id"], allowed)
        raise TooManyRequests(
            f"Satu alamat hanya dapat mengambil {allowed} tiket layanan {service['name']} per hari"
            f" (one address may take {allowed} tickets of this service a day)",
            retry_after=(midnight - now).total_seconds(),
        )


async def _branch_and_service(
    conn: asyncpg.Connection, branch_id: str, service_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The branch and one of its services (with its agency's name), in one round trip."""
    row = await conn.fetchrow(
        "SELECT b.id AS b_id, b.schedule AS b_schedule, b.timezone AS b_timezone,"
        " s.id, s.name, s.agency_id, s.prefix, s.daily_quota,"
        " s.hours, s.schedule, s.target_wait_seconds, a.name AS agency_name,"
        " s.issuing_stopped_on, s.issuing_stop_reason"
        " FROM branches b LEFT JOIN services s ON s.branch_id = b.id AND s.id = $2 AND s.deleted_at IS NULL"
        " LEFT JOIN agencies a ON a.id = s.agency_id WHERE b.id = $1",
        branch_id,
        service_id,
    )
    if row is None:
        raise NotFound(f"no branch {branch_id!r}")
    if row["id"] is None:
        raise InvalidRequest(f"branch {branch_id!r} has no service {service_id!r}")
    return {"id": row["b_id"], "schedule": row["b_schedule"], "timezone": row["b_timezone"]}, dict(row)


def _check_not_stopped(service: Mapping[str, Any], day: Any) -> None:
    """IssuingRefused ``stopped`` with the supervisor's text when issuing is stopped today."""
    if service["issuing_stopped_on"] == day:
        raise IssuingRefused(service["issuing_stop_reason"] or "stopped", reason="stopped", retry_at=None)


class _Replay(TicketingError):
    """Internal: the idempotency key was claimed by a concurrent request."""


async def issue_ticket_idempotent(
    pool: asyncpg.Pool, now: datetime, **kwargs: Any
) -> tuple[dict[str, Any], bool]:
    """:func:`issue_ticket`, resolving the race of two requests with one idempotency key."""
    try:
        return await issue_ticket(pool, now, **kwargs)
    except _Replay:
        return await issue_ticket(pool, now, **kwargs)


async def _insert_ticket(
    conn: asyncpg.Connection,
    now: datetime,
    branch: Mapping[str, Any],
    service: Mapping[str, Any],
    schedule: Schedule,
    ticket_id: uuid.UUID,
    channel: str,
    priority: bool,
    priority_group: PriorityGroup | None,
) -> tuple[dict[str, Any], tuple[int, int]]:
    day = business_date(now, schedule.timezone)
    priority = priority or priority_group is not None
    # The day's next number and the new ticket's place in its queue, in one round trip.
    taken = await conn.fetchrow(
        _NUMBER_AND_AHEAD, service["id"], priority, now, service["prefix"], day, RECENT_SAMPLES
    )
    assert taken is not None
    sequence = taken["last_number"]
    if not quota_allows(sequence, service["daily_quota"]):
        tomorrow = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=schedule.timezone)
        retry_at = next_opening(schedule, tomorrow)
        raise IssuingRefused(
            f"Kuota harian layanan {service['name']} ({service['daily_quota']}) sudah habis."
            + come_back(schedule, retry_at),
            reason="quota",
            retry_at=retry_at,
        )
    number = format_number(service["prefix"], sequence)
    average = average_service_seconds(list(taken["recent"]), taken["expected"])
    position = taken["ahead"] + 1
    estimate = estimate_wait_seconds(taken["ahead"], taken["open_counters"], average)
    inserted = await conn.fetchrow(
        "INSERT INTO tickets (id, branch_id, service_id, issued_service_id, number, business_date, priority,"
        " priority_group, channel, status, issued_at, queued_at, estimated_wait_seconds)"
        " VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, 'waiting', $9, $9, $10) RETURNING *",
        ticket_id,
        branch["id"],
        service["id"],
        number,
        day,
        priority,
        priority_group.value if priority_group else None,
        channel,
        now,
        estimate,
    )
    # The same shape as TICKET_SELECT, without reading the row back.
    row = {
        **dict(inserted),
        "service_name": service["name"],
        "agency_id": service["agency_id"],
        "agency_name": service["agency_name"],
        "target_wait_seconds": service["target_wait_seconds"],
        "counter_name": None,
        "zone": None,
        "timezone": branch["timezone"],
    }
    return row, (position, estimate)


async def cancel_ticket(pool: asyncpg.Pool, now: datetime, ticket_id: uuid.UUID) -> dict[str, Any]:
    """The citizen cancels a waiting ticket."""
    async with pool.acquire() as conn, conn.transaction():
        row = await fetch_ticket(conn, ticket_id, lock=True)
        ticket_transition(TicketStatus(row["status"]), TicketAction.CANCEL)
        (cancelled,) = await cancel_locked(conn, now, [row], CancelReason.CITIZEN)
        return await ticket_view(conn, cancelled)


async def cancel_locked(
    conn: asyncpg.Connection, now: datetime, rows: Sequence[Mapping[str, Any]], reason: CancelReason
) -> list[dict[str, Any]]:
    """Cancel waiting ticket ``rows`` (joined, locked by the caller's transaction) with their events.

    Returns the rows as they stand now. Each ``ticket.cancelled`` carries
    ``data.reason``; the caller's transaction commits the changes and the
    events together.
    """
    await conn.execute(
        "UPDATE tickets SET status = $2, cancel_reason = $3, finished_at = $4 WHERE id = ANY($1::uuid[])",
        [row["id"] for row in rows],
        TicketStatus.CANCELLED.value,
        reason.value,
        now,
    )
    cancelled = [
        {**row, "status": TicketStatus.CANCELLED.value, "cancel_reason": reason.value, "finished_at": now}
        for row in rows
    ]
    for row in cancelled:
        event = ticket_event(EventType.TICKET_CANCELLED, row, now, with_counter=False, reason=reason.value)
        await outbox.enqueue(conn, event)
    return cancelled


async def submit_survey(
    pool: asyncpg.Pool, now: datetime, ticket_id: uuid.UUID, scores: Sequence[int]
) -> dict[str, Any]:
    """Record the IKM answer of a completed ticket, once."""
    async with pool.acquire() as conn, conn.transaction():
        row = await fetch_ticket(conn, ticket_id, lock=True)
        if row["status"] != TicketStatus.COMPLETED:
            raise Conflict(f"only a completed ticket can be rated; this one is {row['status']}")
        inserted = await conn.fetchval(
            "INSERT INTO surveys (ticket_id, scores, submitted_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING ticket_id",
            ticket_id,
            list(scores),
            now,
        )
        if inserted is None:
            raise Conflict("this ticket was already rated")
        await outbox.enqueue(conn, survey_event(row, scores, now))
        return {"ticket_id": str(ticket_id), "scores": list(scores), "submitted_at": rfc3339(now)}
