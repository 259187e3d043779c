"""Cancelling waiting tickets: by the citizen, or in bulk within a caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.events import EventType
from services.ticketing import outbox
from services.ticketing.domain.dayclose import CancelReason
from services.ticketing.domain.lifecycle import TicketAction, TicketStatus, ticket_transition
from services.ticketing.eventdata import ticket_event
from services.ticketing.tickets.queries import fetch_ticket
from services.ticketing.tickets.views import ticket_view


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
