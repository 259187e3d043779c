"""Read-only views of the halls: branches, their agencies, services, counters and queues."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from services.ticketing.counters import counter_view
from services.ticketing.db import load_json
from services.ticketing.domain.numbering import business_date
from services.ticketing.domain.schedule import parse_zone
from services.ticketing.errors import NotFound


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
    items = [
        {
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
