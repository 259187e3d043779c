"""The desk survey code: the survey answered from the QR sign on a counter's desk.

The sign's link names the counter. It rates the ticket that counter completed
most recently, when that was within the window (``TICKETING_SURVEY_DESK_WINDOW_MINUTES``)
and the ticket has no answer yet; otherwise it rates the desk itself (stored
with ``counter_id`` and no ticket). One answer per ticket, as on the ticket page.
A rated ticket's answer goes out as ``survey.submitted`` (with the respondent
profile and the *saran*), so the IKM of metrics counts it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.events.data import Respondent, SurveySubmitted
from services.events.envelope import new_event
from services.ticketing import outbox
from services.ticketing.errors import Conflict, NotFound
from services.ticketing.eventdata import SOURCE, rfc3339
from services.ticketing.tickets import TICKET_SELECT

_LATEST = (
    TICKET_SELECT
    + " WHERE t.counter_id = $1 AND t.status = 'completed' AND t.completed_at >= $2"
    + " ORDER BY t.completed_at DESC LIMIT 1"
)


async def _counter(conn: asyncpg.Connection, counter_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT c.id, c.name, c.branch_id, b.name AS branch_name FROM counters c"
        " JOIN branches b ON b.id = c.branch_id WHERE c.id = $1",
        counter_id,
    )
    if row is None:
        raise NotFound(f"no counter {counter_id!r}")
    return row


async def _latest(conn: asyncpg.Connection, counter_id: str, since: datetime) -> asyncpg.Record | None:
    """The counter's most recently completed ticket since ``since`` that has no answer yet."""
    row = await conn.fetchrow(_LATEST, counter_id, since)
    if row is None:
        return None
    rated = await conn.fetchval("SELECT 1 FROM surveys WHERE ticket_id = $1", row["id"])
    return None if rated else row


async def desk_target(
    pool: asyncpg.Pool, now: datetime, counter_id: str, window: timedelta
) -> dict[str, Any]:
    """What the desk's survey rates now: the latest unrated ticket within ``window``, else the desk."""
    async with pool.acquire() as conn:
        counter = await _counter(conn, counter_id)
        ticket = await _latest(conn, counter_id, now - window)
    return {
        "counter_id": counter["id"],
        "counter_name": counter["name"],
        "branch_id": counter["branch_id"],
        "branch_name": counter["branch_name"],
        "ticket_id": str(ticket["id"]) if ticket else None,
        "number": ticket["number"] if ticket else None,
        "service_name": ticket["service_name"] if ticket else None,
    }


def survey_submitted(
    row: Mapping[str, Any],
    scores: Sequence[int],
    now: datetime,
    respondent: Respondent | None,
    saran: str | None,
) -> Any:
    """``survey.submitted`` of a desk answer for a completed ticket ``row``."""
    data = SurveySubmitted(
        ticket_id=str(row["id"]),
        number=row["number"],
        branch_id=row["branch_id"],
        timezone=row["timezone"],
        business_date=now.astimezone(ZoneInfo(row["timezone"])).date(),
        agency_id=row["agency_id"],
        service_id=row["service_id"],
        counter_id=row["counter_id"],
        scores=tuple(scores),
        submitted_at=now,
        via="desk",
        respondent=respondent,
        saran=saran,
    )
    return new_event(data, source=SOURCE, subject=str(row["id"]), time=now)


async def submit_desk(
    pool: asyncpg.Pool,
    now: datetime,
    counter_id: str,
    *,
    ticket_id: uuid.UUID | None,
    scores: Sequence[int],
    respondent: Respondent | None,
    saran: str | None,
    window: timedelta,
) -> dict[str, Any]:
    """Record a desk answer: for ``ticket_id`` (completed at this counter within the window) or the desk."""
    profile = respondent.model_dump() if respondent else {}
    async with pool.acquire() as conn, conn.transaction():
        await _counter(conn, counter_id)
        row = None
        if ticket_id is not None:
            row = await conn.fetchrow(TICKET_SELECT + " WHERE t.id = $1 FOR UPDATE OF t", ticket_id)
            recent = (
                row is not None and row["completed_at"] is not None and row["completed_at"] >= now - window
            )
            if row is None or row["counter_id"] != counter_id or row["status"] != "completed" or not recent:
                raise Conflict("this ticket is not one this desk completed recently; rate the desk instead")
        survey_id = await conn.fetchval(
            "INSERT INTO surveys (ticket_id, counter_id, scores, submitted_at, sex, age_group, education,"
            " occupation, saran) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT DO NOTHING RETURNING id",
            ticket_id,
            counter_id,
            list(scores),
            now,
            profile.get("sex"),
            profile.get("age_group"),
            profile.get("education"),
            profile.get("occupation"),
            saran,
        )
        if survey_id is None:
            raise Conflict("this ticket was already rated")
        if row is not None:
            await outbox.enqueue(conn, survey_submitted(row, scores, now, respondent, saran))
    return {
        "survey_id": str(survey_id),
        "counter_id": counter_id,
        "ticket_id": str(ticket_id) if ticket_id else None,
        "scores": list(scores),
        "submitted_at": rfc3339(now),
    }
