"""The citizen's IKM answer for a completed ticket."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.ticketing import outbox
from services.ticketing.domain.lifecycle import TicketStatus
from services.ticketing.errors import Conflict
from services.ticketing.eventdata import rfc3339, survey_event
from services.ticketing.tickets.queries import fetch_ticket


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
