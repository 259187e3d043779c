"""Read-only views of the halls: branches, their agencies, services, counters and queues."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from services.ticketing.counters import counter_view
from services.ticketing.db import load_json
from services.ticketing.domain.estimate import average_service_seconds
from services.ticketing.domain.forecast import CounterLoad, closing_time, forecast, suggest_counter
from services.ticketing.domain.numbering import business_date
from services.ticketing.domain.schedule import parse_zone
from services.ticketing.errors import NotFound
from services.ticketing.tickets import RECENT_SAMPLES, branch_schedule


def _branch_summary(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "timezone": row["timezone"]}


async def list_branches(pool: asyncpg.Pool) -> dict[str, Any]:
    """Every branch this deployment serves."""
    rows = await pool.fetch("SELECT id, name, timezone FROM branches ORDER BY id")
    return {"items": [_branch_summary(r) for r in rows]}


def _service(row: asyncpg.Record, today: date) -> dict[str, Any]:
    """A service of the branch detail, with today's issuing switch."""
    stopped = row["issuing_stopped_on"] == today
    service = {k: v for k, v in row.items() if k not in ("issuing_stopped_on", "issuing_stop_reason")}
    return {
        **service,
        "hours": load_json(row["hours"]),
        "issuing_open": not stopped,
        "issuing_stop_reason": row["issuing_stop_reason"] if stopped else None,
    }


async def get_branch(pool: asyncpg.Pool, branch_id: str, now: datetime | None = None) -> dict[str, Any]:
    """A branch with its agencies, services and counters: what a kiosk or a screen needs."""
    async with pool.acquire() as conn:
        branch = await conn.fetchrow("SELECT * FROM branches WHERE id = $1", branch_id)
        if branch is None:
            raise NotFound(f"no branch {branch_id!r}")
        agencies = await conn.fetch(
            "SELECT id, name FROM agencies WHERE branch_id = $1 AND deleted_at IS NULL ORDER BY position, id",
            branch_id,
        )
        services = await conn.fetch(
            "SELECT id, agency_id, name, prefix, daily_quota, expected_service_seconds, target_wait_seconds,"
            " hours, issuing_stopped_on, issuing_stop_reason FROM services"
            " WHERE branch_id = $1 AND deleted_at IS NULL ORDER BY position, id",
            branch_id,
        )
        counters = await conn.fetch(
            "SELECT * FROM counters WHERE branch_id = $1 AND deleted_at IS NULL ORDER BY position, id",
            branch_id,
        )
    schedule = load_json(branch["schedule"])
    today = business_date(now or datetime.now(UTC), parse_zone(branch["timezone"]))
    return {
        **_branch_summary(branch),
        "hours": schedule.get("hours", {}),
        "breaks": schedule.get("breaks", []),
        "holidays": schedule.get("holidays", []),
        "issuing_cutoff_minutes": schedule.get("issuing_cutoff_minutes", 0),
        "agencies": [dict(a) for a in agencies],
        "services": [_service(s, today) for s in services],
        "counters": [counter_view(c) for c in counters],
    }


async def branch_queue(pool: asyncpg.Pool, now: Any, branch_id: str) -> dict[str, Any]:
    """Waiting counts per service for the branch's current business day."""
    async with pool.acquire() as conn:
        branch = await conn.fetchrow("SELECT id, timezone FROM branches WHERE id = $1", branch_id)
        if branch is None:
            raise NotFound(f"no branch {branch_id!r}")
        day = business_date(now, parse_zone(branch["timezone"]))
        rows = await conn.fetch(
            "SELECT s.id, s.agency_id, s.name, s.prefix,"
            " count(t.id) FILTER (WHERE t.status = 'waiting') AS waiting,"
            " count(t.id) FILTER (WHERE t.status = 'waiting' AND t.priority) AS waiting_priority,"
            " min(t.queued_at) FILTER (WHERE t.status = 'waiting') AS oldest"
            " FROM services s LEFT JOIN tickets t ON t.service_id = s.id AND t.business_date = $2"
            " WHERE s.branch_id = $1 AND s.deleted_at IS NULL GROUP BY s.id ORDER BY s.position, s.id",
            branch_id,
            day,
        )
    forecasts = await _forecasts(pool, now, branch_id, {r["id"]: r["waiting"] for r in rows})
    items = [
        {
            "forecast": forecasts[r["id"]],
            "service_id": r["id"],
            "agency_id": r["agency_id"],
            "service_name": r["name"],
            "prefix": r["prefix"],
            "waiting": r["waiting"],
            "waiting_priority": r["waiting_priority"],
            "oldest_waiting_seconds": int((now - r["oldest"]).total_seconds()) if r["oldest"] else 0,
        }
        for r in rows
    ]
    return {
        "branch_id": branch_id,
        "business_date": day.isoformat(),
        "waiting": sum(i["waiting"] for i in items),
        "services": items,
    }


async def _forecasts(pool: asyncpg.Pool, now: Any, branch_id: str, waiting: dict[str, int]) -> dict[str, Any]:
    """The closing-time forecast of each service, with a counter to suggest when it falls short."""
    async with pool.acquire() as conn:
        branch = await conn.fetchrow("SELECT schedule FROM branches WHERE id = $1", branch_id)
        services = await conn.fetch(
            "SELECT s.id, s.hours, s.schedule, s.expected_service_seconds, ARRAY("
            "SELECT extract(epoch FROM d.completed_at - d.serving_at)::float8 FROM tickets d"
            " WHERE d.service_id = s.id AND d.status = 'completed' AND d.serving_at IS NOT NULL"
            " ORDER BY d.completed_at DESC LIMIT $2) AS recent"
            " FROM services s WHERE s.branch_id = $1 AND s.deleted_at IS NULL",
            branch_id,
            RECENT_SAMPLES,
        )
        counters = await conn.fetch(
            "SELECT id, name, status, active_ticket_id, service_ids FROM counters"
            " WHERE branch_id = $1 AND deleted_at IS NULL ORDER BY position, id",
            branch_id,
        )
    loads = [
        CounterLoad(
            c["id"], c["name"], c["status"], c["active_ticket_id"] is not None, tuple(c["service_ids"])
        )
        for c in counters
    ]
    out: dict[str, Any] = {}
    for s in services:
        schedule = branch_schedule(branch, s["hours"], s["schedule"])
        closes = closing_time(schedule, now)
        left = (closes - now).total_seconds() if closes is not None else None
        servers = sum(1 for c in loads if c.status == "open" and s["id"] in c.service_ids)
        average = average_service_seconds(list(s["recent"]), s["expected_service_seconds"])
        f = forecast(waiting.get(s["id"], 0), servers, average, left)
        helper = None if f.all_served else suggest_counter(s["id"], loads, waiting)
        out[s["id"]] = {
            "finish_seconds": f.finish_seconds,
            "seconds_to_close": f.seconds_to_close,
            "all_served": f.all_served,
            "new_ticket_served": f.new_ticket_served,
            "unserved": f.unserved,
            "suggested_counter_id": helper.counter_id if helper else None,
            "suggested_counter_name": helper.name if helper else None,
        }
    return out
