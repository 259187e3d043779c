"""The ticket as the API shows it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from services.ticketing.domain.lifecycle import TicketStatus
from services.ticketing.eventdata import rfc3339
from services.ticketing.tickets.queries import fetch_ticket, position_of


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
    return shown(row, position, estimate)


def shown(row: Mapping[str, Any], position: int, estimate: int) -> dict[str, Any]:
    """The API's ticket from a joined ticket row and its place in the queue."""
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
