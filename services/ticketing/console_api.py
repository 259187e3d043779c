"""The counter console's routes: park and return, no-show reactivation, the counter's queue and day.

Registered by the app factory next to :mod:`services.ticketing.api`; every
route is in :func:`operations`, so ``/openapi.json`` documents it and the
router test checks both ways. Handlers stay thin: parse, check the role, call
the store, shape JSON against the response model.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.platform import validation
from services.platform.openapi import Content, Handler, Operation
from services.ticketing import counters, schemas
from services.ticketing.api import (
    _BRANCH,
    _COUNTER,
    _TICKET,
    _counter_user,
    _json,
    _path_id,
    _ticket_id,
    _validated,
    current_user,
)
from services.ticketing.domain.lifecycle import NoShowRule, ReturnWindow, TicketAction
from services.ticketing.domain.numbering import business_date
from services.ticketing.domain.schedule import parse_zone
from services.ticketing.errors import NotFound, TicketingError
from services.ticketing.eventdata import rfc3339
from services.ticketing.keys import CLOCK, POOL, SETTINGS
from services.ticketing.live import HUB, stream
from services.ticketing.settings import Settings
from services.ticketing.tickets import fetch_ticket, ticket_view

_WAITING = """
SELECT t.id, t.number, t.service_id, s.name AS service_name, t.priority, t.priority_group,
       t.transfers, t.returns, t.reactivations, t.queued_at, t.issued_at
  FROM tickets t JOIN services s ON s.id = t.service_id
 WHERE t.service_id = ANY ($1::text[]) AND t.status = 'waiting' AND t.business_date = $2
 ORDER BY t.priority DESC, t.queued_at, array_position($1::text[], t.service_id), t.number
 LIMIT $3
"""
_BACK_SOON = """
SELECT t.id, t.number, t.service_id, t.status, t.parked_at, t.finished_at, t.counter_id
  FROM tickets t
 WHERE t.business_date = $2 AND (t.service_id = ANY ($1::text[]) OR t.counter_id = $3)
   AND ((t.status = 'parked') OR (t.status = 'no_show' AND t.finished_at >= $4))
 ORDER BY coalesce(t.parked_at, t.finished_at) DESC
 LIMIT 50
"""
_TODAY = """
SELECT count(*) AS served,
       avg(extract(epoch FROM completed_at - serving_at))::float8 AS average
  FROM tickets
 WHERE counter_id = $1 AND status = 'completed' AND business_date = $2 AND serving_at IS NOT NULL
"""
_IKM_TODAY = """
SELECT count(DISTINCT v.ticket_id) AS responses, avg(score)::float8 AS mean
  FROM surveys v JOIN tickets t ON t.id = v.ticket_id, unnest(v.scores) AS score
 WHERE t.counter_id = $1 AND t.business_date = $2
"""
QUEUE_LIMIT = 200


class NotAcceptable(TicketingError):
    """The live stream asked for without ``Accept: text/event-stream`` (406)."""

    status = 406
    title = "Not acceptable"
    type_slug = "not-acceptable"


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WaitingTicket(_Response):
    """One waiting ticket as the console lists it."""

    ticket_id: str = Field(json_schema_extra={"format": "uuid"})
    number: str
    service_id: str
    service_name: str
    priority: bool
    priority_group: str | None
    transferred: bool = Field(description="moved here from another service")
    returned: bool = Field(description="came back after parking or a reactivated no-show")
    issued_at: datetime
    waited_seconds: int


class BackSoon(_Response):
    """A parked ticket (may return until ``until``) or a recent no-show (may be reactivated until then)."""

    ticket_id: str = Field(json_schema_extra={"format": "uuid"})
    number: str
    service_id: str
    status: Literal["parked", "no_show"]
    counter_id: str | None
    until: datetime


class CounterQueue(_Response):
    """The waiting list of a counter's services, in calling order (priority first), at most 200."""

    counter_id: str
    business_date: date
    waiting: int = Field(description="all waiting tickets of the counter's services")
    items: list[WaitingTicket]
    back_soon: list[BackSoon]


class ConsoleCounter(schemas.Counter):
    """A counter with the reason of its pause."""

    pause_reason: Literal["istirahat", "sholat", "rapat", "gangguan"] | None


class CounterConsole(_Response):
    """Everything the counter console shows besides the queue."""

    counter: ConsoleCounter
    active: schemas.Ticket | None
    no_show_min_recalls: int
    no_show_allowed_at: datetime | None = Field(description="earliest moment a no-show may be marked")
    served_today: int
    average_service_seconds_today: int | None
    business_date: date
    ikm_responses_today: int = Field(description="survey answers for tickets this counter served today")
    ikm_today: float | None = Field(description="the IKM (25-100) of those answers")


def return_window(settings: Settings) -> ReturnWindow:
    """The park and reactivation windows from the settings."""
    return ReturnWindow(settings.park_window_minutes, settings.reactivate_window_minutes)


async def park(request: web.Request) -> web.Response:
    """Park the counter's active ticket: the citizen stepped out and may return within the window."""
    counter_id, user = await _counter_user(request)
    await validation.no_body(request)
    window = return_window(request.app[SETTINGS])
    ticket = await counters.park(request.app[POOL], request.app[CLOCK](), counter_id, user, window)
    return _json(schemas.Ticket, ticket)


def requeue_handler(action: TicketAction) -> Handler:
    """A handler putting a parked (return) or no-show (reactivate) ticket back at its place."""

    async def handler(request: web.Request) -> web.Response:
        user = await current_user(request)
        ticket_id = _ticket_id(request)
        await validation.no_body(request)
        window = return_window(request.app[SETTINGS])
        pool, now = request.app[POOL], request.app[CLOCK]()
        ticket = await counters.requeue(pool, now, ticket_id, action, user, window)
        return _json(schemas.Ticket, ticket)

    return handler


async def counter_queue(request: web.Request) -> web.Response:
    """Who waits for the counter's services (in calling order), and who may come back."""
    counter_id, _ = await _counter_user(request)
    pool, now = request.app[POOL], request.app[CLOCK]()
    counter = await _counter_row(pool, counter_id)
    today = business_date(now, parse_zone(counter["timezone"]))
    services = list(counter["service_ids"])
    window = return_window(request.app[SETTINGS])
    waiting = await pool.fetch(_WAITING, services, today, QUEUE_LIMIT)
    oldest_no_show = now - timedelta(minutes=window.reactivate_minutes)
    back = await pool.fetch(_BACK_SOON, services, today, counter_id, oldest_no_show)
    total = await pool.fetchval(
        "SELECT count(*) FROM tickets WHERE service_id = ANY ($1::text[]) AND status = 'waiting'"
        " AND business_date = $2",
        services,
        today,
    )
    result = {
        "counter_id": counter_id,
        "business_date": today.isoformat(),
        "waiting": total,
        "items": [_waiting_item(row, now) for row in waiting],
        "back_soon": [_back_item(row, window) for row in back],
    }
    return _json(CounterQueue, result)


async def counter_console(request: web.Request) -> web.Response:
    """The counter, its pause reason, its active ticket (with when a no-show is allowed) and its day."""
    counter_id, _ = await _counter_user(request)
    pool, now = request.app[POOL], request.app[CLOCK]()
    counter = await _counter_row(pool, counter_id)
    today = business_date(now, parse_zone(counter["timezone"]))
    active, no_show_at = None, None
    async with pool.acquire() as conn:
        if counter["active_ticket_id"] is not None:
            row = await fetch_ticket(conn, counter["active_ticket_id"])
            active = await ticket_view(conn, row)
            rule = NoShowRule(counter["no_show_min_recalls"], counter["no_show_min_seconds"])
            no_show_at = _no_show_allowed_at(rule, row["called_at"])
        stats = await conn.fetchrow(_TODAY, counter_id, today)
        ikm = await conn.fetchrow(_IKM_TODAY, counter_id, today)
    assert stats is not None
    assert ikm is not None
    result = {
        "counter": {**counters.counter_view(counter), "pause_reason": counter["pause_reason"]},
        "active": active,
        "no_show_min_recalls": counter["no_show_min_recalls"],
        "no_show_allowed_at": rfc3339(no_show_at),
        "served_today": stats["served"],
        "average_service_seconds_today": round(stats["average"]) if stats["average"] is not None else None,
        "business_date": today.isoformat(),
        "ikm_responses_today": ikm["responses"],
        # PermenPAN-RB 14/2017: the mean of the nine element means x 25; every answer scores all
        # nine, so that is the mean of every score x 25.
        "ikm_today": round(ikm["mean"] * 25, 2) if ikm["mean"] is not None else None,
    }
    return _json(CounterConsole, result)


async def live(request: web.Request) -> web.StreamResponse:
    """Server-sent events: a public hint (type, number, counter) each time the branch changes."""
    branch_id = _path_id(request, "branch_id")
    if "text/event-stream" not in request.headers.get("Accept", ""):
        raise NotAcceptable("this is an event stream: send 'Accept: text/event-stream' (EventSource does)")
    if not await request.app[POOL].fetchval("SELECT 1 FROM branches WHERE id = $1", branch_id):
        raise NotFound(f"no branch {branch_id!r}")
    return await stream(request, request.app[HUB], branch_id)


def _no_show_allowed_at(rule: NoShowRule, called_at: datetime | None) -> datetime | None:
    return None if called_at is None else called_at + timedelta(seconds=rule.min_seconds)


async def _counter_row(pool: asyncpg.Pool, counter_id: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT c.*, b.timezone, b.no_show_min_recalls, b.no_show_min_seconds"
        " FROM counters c JOIN branches b ON b.id = c.branch_id WHERE c.id = $1",
        counter_id,
    )
    if row is None:
        raise NotFound(f"no counter {counter_id!r}")
    return row


def _waiting_item(row: asyncpg.Record, now: datetime) -> dict[str, Any]:
    return {
        "ticket_id": str(row["id"]),
        "number": row["number"],
        "service_id": row["service_id"],
        "service_name": row["service_name"],
        "priority": row["priority"],
        "priority_group": row["priority_group"],
        "transferred": row["transfers"] > 0,
        "returned": row["returns"] + row["reactivations"] > 0,
        "issued_at": rfc3339(row["issued_at"]),
        "waited_seconds": max(0, int((now - row["issued_at"]).total_seconds())),
    }


def _back_item(row: asyncpg.Record, window: ReturnWindow) -> dict[str, Any]:
    parked = row["status"] == "parked"
    until = window.return_by(row["parked_at"]) if parked else window.reactivate_by(row["finished_at"])
    return {
        "ticket_id": str(row["id"]),
        "number": row["number"],
        "service_id": row["service_id"],
        "status": row["status"],
        "counter_id": row["counter_id"],
        "until": rfc3339(until),
    }


_ACTION_PROBLEMS = (401, 403, 404, 409, 413, 415, 503)
_READ_PROBLEMS = (401, 403, 404, 503)


def _staff(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    model: type[BaseModel] = schemas.Ticket,
    problems: tuple[int, ...] = _ACTION_PROBLEMS,
) -> Operation:
    """A secured console operation on one counter or one ticket, answering ``model``."""
    param, tag = (_COUNTER, "counters") if "{counter_id}" in path else (_TICKET, "tickets")
    return Operation(method, path, _validated(handler), summary, (tag,), (param,),
                     responses={200: Content(model)}, problems=problems, secured=True)  # fmt: skip


_STREAM = Content(media_type="text/event-stream", description="an endless event stream")


def operations() -> list[Operation]:
    """The console's routes with their contract."""
    return [
        _staff("POST", "/api/v1/counters/{counter_id}/park", park, "Park the active ticket: the citizen"
               " steps out and may return to their place within the window"),
        _staff("POST", "/api/v1/tickets/{ticket_id}/return", requeue_handler(TicketAction.RETURN),
               "Return a parked ticket to the queue at its original place (within the park window)"),
        _staff("POST", "/api/v1/tickets/{ticket_id}/reactivate", requeue_handler(TicketAction.REACTIVATE),
               "Reactivate a no-show at its original place (within the reactivation window)"),
        _staff("GET", "/api/v1/counters/{counter_id}/queue", counter_queue, "Who waits for the counter's"
               " services (calling order), and parked or recent no-show tickets",
               CounterQueue, _READ_PROBLEMS),
        Operation("GET", "/api/v1/branches/{branch_id}/live", _validated(live), "Server-sent events: a hint"
                  " (type, number, counter_id, service_id) on every change of the branch", ("branches",),
                  (_BRANCH,), responses={200: _STREAM}, problems=(404, 406, 503)),
        _staff("GET", "/api/v1/counters/{counter_id}/console", counter_console,
               "The counter console's state: the counter, its active ticket, today's figures",
               CounterConsole, _READ_PROBLEMS),
    ]  # fmt: skip
