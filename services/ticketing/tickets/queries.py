"""Reading tickets: the joined ticket row, a waiting ticket's place in its queue, a branch's schedule."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from services.ticketing.db import load_json
from services.ticketing.domain.estimate import average_service_seconds, estimate_wait_seconds
from services.ticketing.domain.schedule import Schedule, parse_hours, parse_schedule
from services.ticketing.errors import NotFound

RECENT_SAMPLES = 20
"""How many recent service times the wait estimate averages."""

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
    WHERE w.service_id = $1 AND w.status = 'waiting' AND w.business_date = $5  -- tickets_waiting_today
      AND ((w.priority AND NOT $2) OR (w.priority = $2 AND (w.queued_at, w.number) < ($3, $4)))) AS ahead,
  (SELECT count(*) FROM counters c WHERE c.status = 'open' AND $1 = ANY (c.service_ids)) AS open_counters,
  ARRAY(SELECT extract(epoch FROM d.completed_at - d.serving_at)::float8 FROM tickets d
         WHERE d.service_id = $1 AND d.status = 'completed' AND d.serving_at IS NOT NULL
         ORDER BY d.completed_at DESC LIMIT $6) AS recent,
  (SELECT expected_service_seconds FROM services WHERE id = $1) AS expected
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
