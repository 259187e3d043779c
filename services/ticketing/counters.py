"""Counters in PostgreSQL: call-next, the actions on the active ticket, open/pause/close.

Every action locks the counter row first (``FOR UPDATE``), so one counter's
actions are serialised and it never holds two tickets. Call-next then takes the
head of a class with ``FOR UPDATE SKIP LOCKED``: two counters calling at once
never get the same ticket, and neither waits for the other.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.events import CloudEvent, EventType
from services.ticketing import audit, outbox
from services.ticketing.auth import User
from services.ticketing.domain.calling import class_order, next_streak
from services.ticketing.domain.lifecycle import (
    CounterAction,
    CounterStatus,
    NoShowRule,
    ReturnWindow,
    TicketAction,
    TicketStatus,
    check_can_call,
    check_no_show,
    check_reactivate,
    check_return,
    counter_transition,
    ticket_transition,
)
from services.ticketing.domain.numbering import business_date
from services.ticketing.domain.schedule import parse_zone
from services.ticketing.errors import Conflict, Forbidden, IllegalTransition, InvalidRequest, NotFound
from services.ticketing.eventdata import counter_event, rfc3339, ticket_event
from services.ticketing.tickets import fetch_ticket, ticket_view

log = logging.getLogger(__name__)

_HEAD = """
SELECT id FROM tickets
 WHERE service_id = ANY ($1::text[]) AND status = 'waiting' AND priority = $2 AND business_date = $3
 ORDER BY queued_at, array_position($1::text[], service_id), number
 LIMIT 1
 FOR UPDATE SKIP LOCKED
"""

_COUNTER_EVENTS = {
    CounterStatus.OPEN: EventType.COUNTER_OPENED,
    CounterStatus.PAUSED: EventType.COUNTER_PAUSED,
    CounterStatus.CLOSED: EventType.COUNTER_CLOSED,
}


async def _lock_counter(conn: asyncpg.Connection, counter_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT c.*, b.timezone, b.max_priority_streak, b.no_show_min_recalls, b.no_show_min_seconds"
        " FROM counters c JOIN branches b ON b.id = c.branch_id WHERE c.id = $1 FOR UPDATE OF c",
        counter_id,
    )
    if row is None:
        raise NotFound(f"no counter {counter_id!r}")
    return row


async def counter_branch(pool: asyncpg.Pool, counter_id: str) -> str:
    """The branch of a counter; NotFound when there is none."""
    branch = await pool.fetchval("SELECT branch_id FROM counters WHERE id = $1", counter_id)
    if branch is None:
        raise NotFound(f"no counter {counter_id!r}")
    return str(branch)


async def call_next(
    pool: asyncpg.Pool, now: datetime, counter_id: str, user: User, ticket_id: uuid.UUID | None = None
) -> dict[str, Any] | None:
    """Call the next ticket to ``counter_id`` (or, for an admin, ``ticket_id``); None when nobody waits."""
    if ticket_id is not None and not user.is_admin:
        raise Forbidden("only an admin may call a specific ticket; operators call next")
    async with pool.acquire() as conn, conn.transaction():
        counter = await _lock_counter(conn, counter_id)
        check_can_call(
            CounterStatus(counter["status"]), has_active_ticket=counter["active_ticket_id"] is not None
        )
        row = await _callable(conn, counter, now, ticket_id)
        if row is None:
            return None
        chosen = row["id"]
        await conn.execute(
            "UPDATE tickets SET status = 'called', counter_id = $2, operator = $3, forced = $4,"
            " called_at = $5, first_called_at = coalesce(first_called_at, $5), recall_count = 0"
            " WHERE id = $1",
            chosen,
            counter_id,
            user.username,
            ticket_id is not None,
            now,
        )
        await conn.execute(
            "UPDATE counters SET active_ticket_id = $2, priority_streak = $3 WHERE id = $1",
            counter_id,
            chosen,
            next_streak(counter["priority_streak"], called_priority=row["priority"]),
        )
        row = await fetch_ticket(conn, chosen)
        forced = ticket_id is not None
        called = ticket_event(
            EventType.TICKET_CALLED, row, now, called_at=now, operator=user.username, forced=forced
        )
        await outbox.enqueue(conn, called)
        await _audit(conn, now, user, called.type.value, row, counter)
        log.info("counter %s called %s (%s) by %s", counter_id, row["number"], chosen, user.username)
        return await ticket_view(conn, row)


async def _callable(
    conn: asyncpg.Connection, counter: asyncpg.Record, now: datetime, ticket_id: uuid.UUID | None
) -> asyncpg.Record | None:
    """The locked ticket the counter calls: the head of its queue, or the admin's pick if it may."""
    services = list(counter["service_ids"])
    today = business_date(now, parse_zone(counter["timezone"]))
    chosen = ticket_id if ticket_id is not None else await _head(conn, counter, services, today)
    if chosen is None:
        return None
    row = await fetch_ticket(conn, chosen, lock=True)
    if row["service_id"] not in services:
        raise Conflict(f"counter {counter['id']!r} does not serve {row['service_id']!r}")
    if row["business_date"] != today:  # only an admin's pick can reach another day's ticket
        raise Conflict(
            f"ticket {row['number']} belongs to business day {row['business_date']}, not today ({today})"
        )
    ticket_transition(TicketStatus(row["status"]), TicketAction.CALL)
    return row


async def _head(
    conn: asyncpg.Connection, counter: asyncpg.Record, services: list[str], day: date
) -> uuid.UUID | None:
    for want_priority in class_order(counter["priority_streak"], counter["max_priority_streak"]):
        found = await conn.fetchval(_HEAD, services, want_priority, day)
        if found is not None:
            return uuid.UUID(str(found))
    return None


async def ticket_action(
    pool: asyncpg.Pool,
    now: datetime,
    counter_id: str,
    action: TicketAction,
    user: User,
    *,
    to_service_id: str | None = None,
) -> dict[str, Any]:
    """Recall, start, complete, no-show or transfer the counter's active ticket."""
    async with pool.acquire() as conn, conn.transaction():
        counter = await _lock_counter(conn, counter_id)
        if counter["active_ticket_id"] is None:
            raise IllegalTransition(f"counter {counter_id!r} has no active ticket; call one first")
        ticket_id = counter["active_ticket_id"]
        row = await fetch_ticket(conn, ticket_id, lock=True)
        after = ticket_transition(TicketStatus(row["status"]), action)
        if action is TicketAction.RECALL:
            await conn.execute("UPDATE tickets SET recall_count = recall_count + 1 WHERE id = $1", ticket_id)
            event, extra = EventType.TICKET_RECALLED, {"recall_count": row["recall_count"] + 1}
        elif action is TicketAction.START:
            await conn.execute(
                "UPDATE tickets SET status = $2, serving_at = $3 WHERE id = $1", ticket_id, after, now
            )
            event, extra = EventType.TICKET_SERVING, {"serving_at": rfc3339(now)}
        elif action is TicketAction.COMPLETE:
            await _finish(conn, counter_id, ticket_id, after, now, "completed_at = $3, finished_at = $3")
            event, extra = (
                EventType.TICKET_COMPLETED,
                {"completed_at": rfc3339(now), "serving_at": rfc3339(row["serving_at"])},
            )
        elif action is TicketAction.NO_SHOW:
            rule = NoShowRule(counter["no_show_min_recalls"], counter["no_show_min_seconds"])
            check_no_show(rule, recall_count=row["recall_count"], called_at=row["called_at"], now=now)
            await _finish(conn, counter_id, ticket_id, after, now, "finished_at = $3")
            event, extra = EventType.TICKET_NO_SHOW, {"recall_count": row["recall_count"]}
        elif action is TicketAction.TRANSFER:
            return await _transfer(conn, now, counter, row, to_service_id, user)
        else:  # CALL and CANCEL have their own functions
            raise IllegalTransition(f"{action.value} is not a counter action")
        row = await fetch_ticket(conn, ticket_id)
        await outbox.enqueue(conn, ticket_event(event, row, now, **extra))
        await _audit(conn, now, user, event.value, row, counter)
        log.info("counter %s: %s %s (%s)", counter_id, action.value, row["number"], ticket_id)
        return await ticket_view(conn, row)


async def _finish(
    conn: asyncpg.Connection,
    counter_id: str,
    ticket_id: uuid.UUID,
    status: TicketStatus,
    now: datetime,
    sets: str,
) -> None:
    await conn.execute(f"UPDATE tickets SET status = $2, {sets} WHERE id = $1", ticket_id, status.value, now)  # noqa: S608
    await conn.execute("UPDATE counters SET active_ticket_id = NULL WHERE id = $1", counter_id)


async def _transfer(
    conn: asyncpg.Connection,
    now: datetime,
    counter: asyncpg.Record,
    row: asyncpg.Record,
    to_service_id: str | None,
    user: User,
) -> dict[str, Any]:
    if to_service_id is None:
        raise InvalidRequest("transfer needs a 'service_id' to transfer to")
    target = await conn.fetchval(
        "SELECT id FROM services WHERE id = $1 AND branch_id = $2", to_service_id, counter["branch_id"]
    )
    if target is None:
        raise InvalidRequest(f"branch {counter['branch_id']!r} has no service {to_service_id!r}")
    if to_service_id == row["service_id"]:
        raise Conflict("the ticket already waits for that service")
    # The ticket keeps its number and its place in line (queued_at).
    await conn.execute(
        "UPDATE tickets SET status = 'waiting', service_id = $2, counter_id = NULL, recall_count = 0,"
        " called_at = NULL, serving_at = NULL, transfers = transfers + 1 WHERE id = $1",
        row["id"],
        to_service_id,
    )
    await conn.execute("UPDATE counters SET active_ticket_id = NULL WHERE id = $1", counter["id"])
    moved = await fetch_ticket(conn, row["id"])
    transferred = ticket_event(
        EventType.TICKET_TRANSFERRED,
        moved,
        now,
        from_service_id=row["service_id"],
        from_agency_id=row["agency_id"],
        from_counter_id=counter["id"],
        operator=user.username,
        counter_id=counter["id"],
        counter_name=counter["name"],
        zone=counter["zone"],
    )
    await outbox.enqueue(conn, transferred)
    await _audit(conn, now, user, transferred.type.value, moved, counter)
    log.info("counter %s transferred %s to %s", counter["id"], row["number"], to_service_id)
    return await ticket_view(conn, moved)


async def counter_action(
    pool: asyncpg.Pool,
    now: datetime,
    counter_id: str,
    action: CounterAction,
    user: User,
    *,
    reason: str | None = None,
) -> dict[str, Any]:
    """Open, pause (with an optional ``reason``) or close a counter."""
    async with pool.acquire() as conn, conn.transaction():
        counter = await _lock_counter(conn, counter_id)
        after = counter_transition(
            CounterStatus(counter["status"]),
            action,
            has_active_ticket=counter["active_ticket_id"] is not None,
        )
        # The priority streak survives a pause or a close: otherwise pausing and
        # reopening would let a counter skip the normal tickets that wait.
        reason = reason if after is CounterStatus.PAUSED else None
        await conn.execute(
            "UPDATE counters SET status = $2, pause_reason = $3 WHERE id = $1",
            counter_id,
            after.value,
            reason,
        )
        extra = {"reason": reason} if reason is not None else {}
        await outbox.enqueue(
            conn, counter_event(_COUNTER_EVENTS[after], counter, after.value, user.username, now, **extra)
        )
        await audit.record(
            conn, now, user.username, _COUNTER_EVENTS[after].value, counter_id, counter["branch_id"],
            before={"status": counter["status"]}, after={"status": after.value},
        )  # fmt: skip
        log.info("counter %s is now %s (%s)", counter_id, after.value, user.username)
        return counter_view(counter, after.value)


async def park(
    pool: asyncpg.Pool, now: datetime, counter_id: str, user: User, window: ReturnWindow
) -> dict[str, Any]:
    """Park the counter's active ticket: the citizen steps out, the counter is free for the next."""
    async with pool.acquire() as conn, conn.transaction():
        counter = await _lock_counter(conn, counter_id)
        if counter["active_ticket_id"] is None:
            raise IllegalTransition(f"counter {counter_id!r} has no active ticket to park")
        ticket_id = counter["active_ticket_id"]
        row = await fetch_ticket(conn, ticket_id, lock=True)
        after = ticket_transition(TicketStatus(row["status"]), TicketAction.PARK)
        # counter_id stays: the parking counter is named on the event and the screen.
        await conn.execute(
            "UPDATE tickets SET status = $2, parked_at = $3 WHERE id = $1", ticket_id, after.value, now
        )
        await conn.execute("UPDATE counters SET active_ticket_id = NULL WHERE id = $1", counter_id)
        row = await fetch_ticket(conn, ticket_id)
        parked = ticket_event(
            EventType.TICKET_PARKED,
            row,
            now,
            parked_at=now,
            return_by=window.return_by(now),
            operator=user.username,
        )
        await outbox.enqueue(conn, parked)
        log.info("counter %s parked %s (%s) by %s", counter_id, row["number"], ticket_id, user.username)
        return await ticket_view(conn, row)


async def requeue(
    pool: asyncpg.Pool,
    now: datetime,
    ticket_id: uuid.UUID,
    action: TicketAction,
    user: User,
    window: ReturnWindow,
) -> dict[str, Any]:
    """Return a parked ticket or reactivate a no-show: it waits again at its original place.

    ``queued_at`` is left as it was, so the ticket is ahead of everyone who came
    after it; the next call-next of a counter of its service takes it.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await fetch_ticket(conn, ticket_id, lock=True)
        await _require_service_staff(conn, user, row)
        status = TicketStatus(row["status"])
        ticket_transition(status, action)
        if row["business_date"] != business_date(now, parse_zone(row["timezone"])):
            raise IllegalTransition(f"ticket {row['number']} belongs to business day {row['business_date']}")
        if action is TicketAction.RETURN:
            check_return(window, parked_at=row["parked_at"], now=now)
            counted = "returns = returns + 1"
        elif action is TicketAction.REACTIVATE:
            check_reactivate(window, no_show_at=row["finished_at"], now=now)
            counted = "reactivations = reactivations + 1"
        else:
            raise IllegalTransition(f"{action.value} does not put a ticket back in line")
        await conn.execute(
            "UPDATE tickets SET status = 'waiting', counter_id = NULL, recall_count = 0, called_at = NULL,"  # noqa: S608
            f" serving_at = NULL, parked_at = NULL, finished_at = NULL, {counted} WHERE id = $1",
            ticket_id,
        )
        back = await fetch_ticket(conn, ticket_id)
        await outbox.enqueue(conn, _requeued(action, back, row["parked_at"], now, user))
        log.info("ticket %s (%s): %s by %s", back["number"], ticket_id, action.value, user.username)
        return await ticket_view(conn, back)


def _requeued(
    action: TicketAction, back: asyncpg.Record, parked_at: datetime | None, now: datetime, user: User
) -> CloudEvent:
    """The event of a ticket returned from parking or reactivated after a no-show."""
    if action is TicketAction.RETURN:
        return ticket_event(
            EventType.TICKET_RETURNED, back, now, with_counter=False, returned_at=now, parked_at=parked_at,
            operator=user.username,
        )  # fmt: skip
    return ticket_event(
        EventType.TICKET_REACTIVATED,
        back,
        now,
        with_counter=False,
        reactivated_at=now,
        operator=user.username,
    )


async def _require_service_staff(conn: asyncpg.Connection, user: User, row: asyncpg.Record) -> None:
    """The operator of the parking counter, of any counter of the ticket's service, or branch staff."""
    if user.may_act_at(row["counter_id"], row["branch_id"]) or await conn.fetchval(
        "SELECT count(*) FROM counters WHERE id = ANY ($1::text[]) AND $2 = ANY (service_ids)",
        list(user.counter_ids),
        row["service_id"],
    ):
        return
    raise Forbidden(f"user {user.username!r} has no counter serving ticket {row['number']}")


async def _audit(
    conn: asyncpg.Connection, now: datetime, user: User, action: str, row: Any, counter: Any
) -> None:
    """The audit entry of an action on a ticket at a counter (in the action's transaction)."""
    after = {"number": row["number"], "status": row["status"], "service_id": row["service_id"],
             "counter_id": counter["id"]}  # fmt: skip
    await audit.record(conn, now, user.username, action, str(row["id"]), counter["branch_id"], after=after)


def counter_view(counter: asyncpg.Record | dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """A counter as the API shows it."""
    active = counter["active_ticket_id"]
    return {
        "id": counter["id"],
        "branch_id": counter["branch_id"],
        "name": counter["name"],
        "zone": counter["zone"],
        "service_ids": list(counter["service_ids"]),
        "status": status or counter["status"],
        "active_ticket_id": str(active) if active is not None else None,
    }
