"""The supervisor's interventions in PostgreSQL: cancel or move a waiting ticket, hall announcements.

Each runs in one transaction with its event on the outbox and its audit entry.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.events import EventType, HallAnnouncement, new_event
from services.ticketing import audit, directory, outbox
from services.ticketing.auth import Role, User
from services.ticketing.domain.dayclose import CancelReason
from services.ticketing.domain.lifecycle import TicketAction, TicketStatus, ticket_transition
from services.ticketing.domain.numbering import business_date
from services.ticketing.domain.schedule import parse_zone
from services.ticketing.errors import Conflict, InvalidRequest, NotFound
from services.ticketing.eventdata import SOURCE, ticket_event
from services.ticketing.tickets import cancel_locked, fetch_ticket, ticket_view

SUPERVISING = (Role.SUPERVISOR, Role.BRANCH_ADMIN)


def _brief(row: Any) -> dict[str, Any]:
    return {"number": row["number"], "status": row["status"], "service_id": row["service_id"]}


async def cancel_ticket(
    pool: asyncpg.Pool, now: datetime, actor: User, ticket_id: uuid.UUID, reason: str
) -> dict[str, Any]:
    """Staff cancel a waiting ticket with ``reason`` (kept in the audit trail)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await fetch_ticket(conn, ticket_id, lock=True)
        actor.require_role(row["branch_id"], *SUPERVISING)
        ticket_transition(TicketStatus(row["status"]), TicketAction.CANCEL)
        (cancelled,) = await cancel_locked(conn, now, [row], CancelReason.STAFF)
        await audit.record(
            conn, now, actor.username, "ticket.cancelled", str(ticket_id), row["branch_id"],
            before=_brief(row), after={**_brief(cancelled), "reason": reason},
        )  # fmt: skip
        return await ticket_view(conn, cancelled)


async def move_ticket(
    pool: asyncpg.Pool, now: datetime, actor: User, ticket_id: uuid.UUID, service_id: str
) -> dict[str, Any]:
    """Move a waiting ticket to another service of its branch; it keeps its number and place."""
    async with pool.acquire() as conn, conn.transaction():
        row = await fetch_ticket(conn, ticket_id, lock=True)
        actor.require_role(row["branch_id"], *SUPERVISING)
        if row["status"] != TicketStatus.WAITING:
            raise Conflict(f"only a waiting ticket can be moved; {row['number']} is {row['status']}")
        target = await conn.fetchval(
            "SELECT id FROM services WHERE id = $1 AND branch_id = $2 AND deleted_at IS NULL",
            service_id,
            row["branch_id"],
        )
        if target is None:
            raise InvalidRequest(f"branch {row['branch_id']!r} has no service {service_id!r}")
        if service_id == row["service_id"]:
            raise Conflict("the ticket already waits for that service")
        await conn.execute(
            "UPDATE tickets SET service_id = $2, transfers = transfers + 1 WHERE id = $1",
            ticket_id,
            service_id,
        )
        moved = await fetch_ticket(conn, ticket_id)
        event = ticket_event(
            EventType.TICKET_TRANSFERRED, moved, now, with_counter=False,
            from_service_id=row["service_id"], from_agency_id=row["agency_id"], operator=actor.username,
        )  # fmt: skip
        await outbox.enqueue(conn, event)
        await audit.record(
            conn, now, actor.username, "ticket.moved", str(ticket_id), row["branch_id"],
            before=_brief(row), after=_brief(moved),
        )  # fmt: skip
        return await ticket_view(conn, moved)


async def announce(
    pool: asyncpg.Pool,
    now: datetime,
    actor: User,
    branch_id: str,
    text: str,
    mode: str,
    until: datetime | None,
) -> dict[str, Any]:
    """Send a running text (marquee until ``until``) or a once-spoken announcement to the hall screens."""
    actor.require_role(branch_id, *SUPERVISING)
    if until is not None and until <= now:
        raise InvalidRequest("'until' must be in the future")
    async with pool.acquire() as conn, conn.transaction():
        zone = await conn.fetchval("SELECT timezone FROM branches WHERE id = $1", branch_id)
        if zone is None:
            raise NotFound(f"no branch {branch_id!r}")
        data = HallAnnouncement.model_validate(
            {
                "branch_id": branch_id,
                "timezone": zone,
                "business_date": business_date(now, parse_zone(zone)),
                "text": text,
                "mode": mode,
                "until": until,
                "actor": actor.username,
            }
        )
        await outbox.enqueue(conn, new_event(data, source=SOURCE, subject=branch_id, time=now))
        out = {"branch_id": branch_id, "text": text, "mode": mode, "until": until}
        await audit.record(conn, now, actor.username, "hall.announcement", branch_id, branch_id, after=out)
    return {**out, "until": until.isoformat() if until else None}


async def monitor(pool: asyncpg.Pool, now: datetime, actor: User, branch_id: str) -> dict[str, Any]:
    """The hall floor now: every counter (status, operator, ticket, serving and idle time) and the queue."""
    actor.require_role(branch_id, *SUPERVISING)
    queue = await directory.branch_queue(pool, now, branch_id)
    rows = await pool.fetch(
        "SELECT c.id, c.name, c.zone, c.status, c.service_ids, t.number, t.status AS ticket_status,"
        " t.operator, t.called_at, t.serving_at,"
        " (SELECT max(d.finished_at) FROM tickets d WHERE d.counter_id = c.id) AS last_finished"
        " FROM counters c LEFT JOIN tickets t ON t.id = c.active_ticket_id"
        " WHERE c.branch_id = $1 AND c.deleted_at IS NULL ORDER BY c.position, c.id",
        branch_id,
    )
    tickets = await pool.fetch(
        "SELECT id, number, service_id, queued_at FROM tickets"
        " WHERE branch_id = $1 AND status = 'waiting' AND business_date = $2"
        " ORDER BY priority DESC, queued_at, number LIMIT 200",
        branch_id,
        date.fromisoformat(queue["business_date"]),
    )
    waiting = [
        {"ticket_id": str(t["id"]), "number": t["number"], "service_id": t["service_id"],
         "waited_seconds": _since(now, t["queued_at"]) or 0}
        for t in tickets
    ]  # fmt: skip
    return {
        "branch_id": branch_id,
        "at": now.isoformat(),
        "counters": [_floor_counter(r, now) for r in rows],
        "queue": queue,
        "waiting": waiting,
    }


def _since(now: datetime, moment: datetime | None) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def _floor_counter(r: asyncpg.Record, now: datetime) -> dict[str, Any]:
    """One counter of the hall monitor; idle time only for an open counter without a ticket."""
    return {
        "counter_id": r["id"],
        "name": r["name"],
        "zone": r["zone"],
        "status": r["status"],
        "service_ids": list(r["service_ids"]),
        "operator": r["operator"],
        "ticket_number": r["number"],
        "ticket_status": r["ticket_status"],
        "serving_seconds": _since(now, r["serving_at"] or r["called_at"]),
        "idle_seconds": _since(now, r["last_finished"])
        if r["number"] is None and r["status"] == "open"
        else None,
    }
