"""Issuing a ticket: the rules checked here, the writes in one statement (one round trip).

The opening hours, breaks, holidays, cut-off and the supervisor's issuing
switch are checked in Python (:mod:`services.ticketing.domain.schedule`)
against the branch's and the service's rows, which a process keeps per service
together with their version (:class:`IssuingConfig`). The database function
``issue_ticket`` (migration 011) then does the writes in one statement, so in
one transaction: it checks that the version is still current (if not, nothing is
written and the rows are read again), claims the idempotency key, counts the
client's share of the quota, takes the day's next number (an upsert whose row
lock keeps numbers gapless and unique; a refusal rolls it back), places the
ticket in its queue with its wait estimate, and inserts the ticket and its
``ticket.issued`` event into the outbox.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from services.events import EventType
from services.ticketing import outbox
from services.ticketing.domain.calling import PriorityGroup
from services.ticketing.domain.issuing import quota_retry_at
from services.ticketing.domain.numbering import MAX_NUMBER, business_date, format_number
from services.ticketing.domain.schedule import Schedule, check_issuing, come_back
from services.ticketing.errors import (
    Conflict,
    InvalidRequest,
    IssuingRefused,
    NotFound,
    TicketingError,
    TooManyRequests,
)
from services.ticketing.eventdata import ticket_event
from services.ticketing.tickets.queries import RECENT_SAMPLES, branch_schedule, fetch_ticket
from services.ticketing.tickets.views import shown, ticket_view

log = logging.getLogger(__name__)

QUOTA_USED_UP = "AQ001"
"""SQLSTATE of the database functions when the day's quota of a service is used up."""
SHARE_USED_UP = "AS001"
"""SQLSTATE of ``issue_ticket`` when a client's share of the quota is used up."""

_MAX_CONFIGS = 4096
_ATTEMPTS = 4

_CONFIG = """
SELECT b.id AS b_id, b.schedule AS b_schedule, b.timezone AS b_timezone,
       s.id, s.name, s.agency_id, s.prefix, s.daily_quota, s.hours, s.schedule, s.target_wait_seconds,
       a.name AS agency_name, s.issuing_stopped_on, s.issuing_stop_reason, issuing_version(s.id) AS version
  FROM branches b LEFT JOIN services s ON s.branch_id = b.id AND s.id = $2 AND s.deleted_at IS NULL
  LEFT JOIN agencies a ON a.id = s.agency_id
 WHERE b.id = $1
"""
_ISSUE = "SELECT * FROM issue_ticket($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
_TAKE = "SELECT * FROM take_ticket($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"


@dataclass(frozen=True, slots=True)
class IssuingConfig:
    """What issuing needs of a branch and one of its services, as of ``version``."""

    version: str
    timezone: str
    service: Mapping[str, Any]
    schedule: Schedule


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One ticket asked for; ``priority`` is already true for a priority group."""

    branch_id: str
    service_id: str
    channel: str
    priority: bool
    group: str | None
    idempotency_key: str | None
    client_key: str | None
    share: float


class _Replay(TicketingError):
    """Internal: the idempotency key was claimed by a concurrent request."""


_configs: dict[tuple[str, str], IssuingConfig] = {}


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
    group = priority_group.value if priority_group else None
    asked = IssueRequest(
        branch_id,
        service_id,
        channel,
        priority or group is not None,
        group,
        idempotency_key,
        client_key,
        share,
    )
    async with pool.acquire() as conn:
        if idempotency_key is not None:
            replayed = await _replayed(conn, asked)
            if replayed is not None:
                return replayed, False
        for _ in range(_ATTEMPTS):
            ticket = await _issue(conn, now, await _checked_config(conn, now, branch_id, service_id), asked)
            if ticket is not None:
                log.info(
                    "issued ticket %s %s at %s (%s)", ticket["number"], ticket["id"], branch_id, service_id
                )
                return ticket, True
            _configs.pop((branch_id, service_id), None)  # changed since it was read
    raise Conflict(f"the configuration of service {service_id!r} is being changed; please try again")


async def issue_ticket_idempotent(
    pool: asyncpg.Pool, now: datetime, **kwargs: Any
) -> tuple[dict[str, Any], bool]:
    """:func:`issue_ticket`, resolving the race of two requests with one idempotency key."""
    try:
        return await issue_ticket(pool, now, **kwargs)
    except _Replay:
        return await issue_ticket(pool, now, **kwargs)


async def _replayed(conn: asyncpg.Connection, asked: IssueRequest) -> dict[str, Any] | None:
    """The ticket an earlier request with the same idempotency key got; None for a new key."""
    existing = await conn.fetchval(
        "SELECT ticket_id FROM idempotency_keys WHERE branch_id = $1 AND key = $2",
        asked.branch_id,
        asked.idempotency_key,
    )
    if existing is None:
        return None
    row = await fetch_ticket(conn, existing)
    was = (row["issued_service_id"], row["channel"], row["priority"], row["priority_group"])
    if (asked.service_id, asked.channel, asked.priority, asked.group) != was:
        raise InvalidRequest(
            f"Idempotency-Key {asked.idempotency_key!r} was already used for a different ticket request"
            f" (ticket {row['number']}); use a new key for a new request"
        )
    return await ticket_view(conn, row)


async def _checked_config(
    conn: asyncpg.Connection, now: datetime, branch_id: str, service_id: str
) -> IssuingConfig:
    """The service's issuing configuration with its rules checked at ``now``.

    A cached configuration that refuses is read again before the refusal is
    given, so a rule changed since it was cached never refuses a ticket; one
    that allows is confirmed by the version check of the writing statement.
    """
    cached = _configs.get((branch_id, service_id))
    if cached is not None:
        try:
            _check_rules(cached, now)
        except IssuingRefused:
            pass
        else:
            return cached
    config = await _read_config(conn, branch_id, service_id)
    _check_rules(config, now)
    return config


def _check_rules(config: IssuingConfig, now: datetime) -> None:
    """Hours, breaks, holidays, the cut-off and the issuing switch; IssuingRefused when closed."""
    check_issuing(config.schedule, now)
    service = config.service
    if service["issuing_stopped_on"] == business_date(now, config.schedule.timezone):
        raise IssuingRefused(service["issuing_stop_reason"] or "stopped", reason="stopped", retry_at=None)


async def _read_config(conn: asyncpg.Connection, branch_id: str, service_id: str) -> IssuingConfig:
    """The branch's and service's rows as they are now, kept in this process's cache."""
    row = await conn.fetchrow(_CONFIG, branch_id, service_id)
    if row is None:
        raise NotFound(f"no branch {branch_id!r}")
    if row["id"] is None:
        raise InvalidRequest(f"branch {branch_id!r} has no service {service_id!r}")
    schedule = branch_schedule({"schedule": row["b_schedule"]}, row["hours"], row["schedule"])
    config = IssuingConfig(row["version"], row["b_timezone"], dict(row), schedule)
    if len(_configs) >= _MAX_CONFIGS:
        _configs.clear()
    _configs[(branch_id, service_id)] = config
    return config


async def _issue(
    conn: asyncpg.Connection, now: datetime, config: IssuingConfig, asked: IssueRequest
) -> dict[str, Any] | None:
    """Write the ticket and its event (``config``'s rules allow it); None when ``config`` is out of date."""
    service, schedule = config.service, config.schedule
    day = business_date(now, schedule.timezone)
    ticket_id = uuid.uuid4()
    row = _new_row(ticket_id, asked, config.timezone, service, now, day)
    # The event as the model builds it; the statement writes the number, position and estimate.
    event = ticket_event(
        EventType.TICKET_ISSUED,
        row,
        now,
        with_counter=False,
        position=1,
        estimated_wait_seconds=0,
        target_wait_seconds=service["target_wait_seconds"],
    )
    allowed = max(1, math.floor(asked.share * service["daily_quota"])) if asked.client_key else None
    try:
        result = await conn.fetchrow(
            _ISSUE, ticket_id, asked.branch_id, service["id"], config.version, service["prefix"],
            min(service["daily_quota"], MAX_NUMBER), now, day, asked.priority, asked.group, asked.channel,
            RECENT_SAMPLES, asked.idempotency_key, asked.client_key, allowed, outbox.event_text(event),
        )  # fmt: skip
    except asyncpg.PostgresError as exc:
        refusal = _refusal(exc, service, schedule, now, day, allowed)
        if refusal is None:
            raise
        raise refusal from None
    if result["outcome"] == "stale":
        return None
    if result["outcome"] == "replay":
        raise _Replay("idempotency key claimed by a concurrent request")
    row["number"] = format_number(service["prefix"], result["sequence"])
    row["estimated_wait_seconds"] = result["estimate"]
    return shown(row, result["ahead"] + 1, result["estimate"])


async def insert_ticket(
    conn: asyncpg.Connection,
    now: datetime,
    branch: Mapping[str, Any],
    service: Mapping[str, Any],
    schedule: Schedule,
    ticket_id: uuid.UUID,
    channel: str,
    priority: bool,
    priority_group: PriorityGroup | None,
) -> None:
    """Take the day's next number and insert a waiting ticket, in the caller's transaction.

    No event: the caller (a booking's check-in) writes it. Past the service's
    quota: IssuingRefused ``quota``, and the caller's transaction is rolled back.
    """
    day = business_date(now, schedule.timezone)
    group = priority_group.value if priority_group else None
    try:
        await conn.execute(
            _TAKE, ticket_id, branch["id"], service["id"], service["prefix"],
            min(service["daily_quota"], MAX_NUMBER), now, day, priority or group is not None, group, channel,
            RECENT_SAMPLES,
        )  # fmt: skip
    except asyncpg.PostgresError as exc:
        refusal = _refusal(exc, service, schedule, now, day, None)
        if refusal is None:
            raise
        raise refusal from None


def _new_row(
    ticket_id: uuid.UUID,
    asked: IssueRequest,
    timezone: str,
    service: Mapping[str, Any],
    now: datetime,
    day: date,
) -> dict[str, Any]:
    """A new waiting ticket as a joined ticket row (``TICKET_SELECT``'s shape), its number a placeholder."""
    unset = ("counter_id", "counter_name", "zone", "called_at", "serving_at", "completed_at", "cancel_reason")
    return {
        **dict.fromkeys(unset),
        "id": ticket_id,
        "number": format_number(service["prefix"], 1),
        "status": "waiting",
        "branch_id": asked.branch_id,
        "timezone": timezone,
        "business_date": day,
        "service_id": service["id"],
        "service_name": service["name"],
        "agency_id": service["agency_id"],
        "agency_name": service["agency_name"],
        "target_wait_seconds": service["target_wait_seconds"],
        "priority": asked.priority,
        "priority_group": asked.group,
        "channel": asked.channel,
        "issued_at": now,
        "queued_at": now,
        "recall_count": 0,
        "estimated_wait_seconds": 0,
    }


def _refusal(
    exc: asyncpg.PostgresError,
    service: Mapping[str, Any],
    schedule: Schedule,
    now: datetime,
    day: date,
    allowed: int | None,
) -> TicketingError | None:
    """The refusal a database function raised (quota or share) as the API's error; None for other errors."""
    if exc.sqlstate == QUOTA_USED_UP:
        retry_at = quota_retry_at(schedule, day)
        return IssuingRefused(
            f"Kuota harian layanan {service['name']} ({service['daily_quota']}) sudah habis."
            + come_back(schedule, retry_at),
            reason="quota",
            retry_at=retry_at,
        )
    if exc.sqlstate == SHARE_USED_UP:
        midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=schedule.timezone)
        log.warning("issuing share of %s exhausted by one address (%s tickets)", service["id"], allowed)
        return TooManyRequests(
            f"Satu alamat hanya dapat mengambil {allowed} tiket layanan {service['name']} per hari"
            f" (one address may take {allowed} tickets of this service a day)",
            retry_after=(midnight - now).total_seconds(),
        )
    return None
