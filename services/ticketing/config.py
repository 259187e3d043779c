"""The hall's master data changed live: agencies, services, counters, the issuing switch, export.

Every change is checked by the hall loader's own validators
(:mod:`services.ticketing.domain.hall`), written in one transaction with its
audit entry and a ``hall.configured`` event on the outbox, so kiosks, screens
and metrics re-read the branch without a restart. Deleting is soft: the row
stays (tickets and reports point at it), it is no longer listed or issued for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import asyncpg

from services.events import HallConfigured, new_event
from services.ticketing import audit, outbox
from services.ticketing.auth import Role, User
from services.ticketing.db import load_json
from services.ticketing.domain.hall import Service, parse_agency, parse_counter, parse_service
from services.ticketing.domain.numbering import business_date
from services.ticketing.domain.schedule import parse_zone
from services.ticketing.errors import Conflict, InvalidRequest, NotFound
from services.ticketing.eventdata import SOURCE

MASTER_DATA_ROLES = (Role.BRANCH_ADMIN,)
SUPERVISING_ROLES = (Role.SUPERVISOR, Role.BRANCH_ADMIN)


async def _branch(conn: asyncpg.Connection, branch_id: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM branches WHERE id = $1", branch_id)
    if row is None:
        raise NotFound(f"no branch {branch_id!r}")
    return row


async def configured(
    conn: asyncpg.Connection,
    now: datetime,
    branch: Mapping[str, Any],
    kind: str,
    action: str,
    target: str,
    fields: list[str],
    actor: str,
) -> None:
    """Enqueue ``hall.configured`` for a change of ``target`` (inside the change's transaction)."""
    data = HallConfigured.model_validate(
        {
            "branch_id": branch["id"],
            "timezone": branch["timezone"],
            "business_date": business_date(now, parse_zone(branch["timezone"])),
            "kind": kind,
            "action": action,
            "id": target,
            "fields": tuple(sorted(fields))[:64],
            "actor": actor,
        }
    )
    await outbox.enqueue(conn, new_event(data, source=SOURCE, subject=target, time=now))


# -- agencies ---------------------------------------------------------------------------------


async def create_agency(
    pool: asyncpg.Pool, now: datetime, actor: User, branch_id: str, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Add an agency to ``branch_id``."""
    actor.require_role(branch_id, *MASTER_DATA_ROLES)
    agency = parse_agency(raw, branch_id)
    async with pool.acquire() as conn, conn.transaction():
        branch = await _branch(conn, branch_id)
        position = await conn.fetchval(
            "SELECT coalesce(max(position) + 1, 0) FROM agencies WHERE branch_id = $1", branch_id
        )
        inserted = await conn.fetchval(
            "INSERT INTO agencies (id, branch_id, name, position) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (id) DO NOTHING RETURNING 1",
            agency.id,
            branch_id,
            agency.name,
            position,
        )
        if inserted is None:
            raise Conflict(f"the agency id {agency.id!r} is taken")
        after = {"id": agency.id, "branch_id": branch_id, "name": agency.name}
        await audit.record(conn, now, actor.username, "agency.created", agency.id, branch_id, after=after)
        await configured(conn, now, branch, "agency", "created", agency.id, ["name"], actor.username)
    return after


# -- services ---------------------------------------------------------------------------------


def service_out(row: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
    """A services row as the admin API shows it."""
    stopped = today is not None and row["issuing_stopped_on"] == today
    return {
        "id": row["id"],
        "branch_id": row["branch_id"],
        "agency_id": row["agency_id"],
        "name": row["name"],
        "prefix": row["prefix"],
        "daily_quota": row["daily_quota"],
        "expected_service_seconds": row["expected_service_seconds"],
        "target_wait_seconds": row["target_wait_seconds"],
        "hours": load_json(row["hours"]),
        "rules": load_json(row["schedule"]),
        "deleted": row["deleted_at"] is not None,
        "issuing_open": not stopped,
        "issuing_stop_reason": row["issuing_stop_reason"] if stopped else None,
    }


def service_file_form(row: Mapping[str, Any]) -> dict[str, Any]:
    """A services row back in the hall file's form (minutes, ``quota``, holidays with names)."""
    rules = load_json(row["schedule"]) or {}
    raw: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "prefix": row["prefix"],
        "quota": row["daily_quota"],
        "service_minutes": row["expected_service_seconds"] // 60,
        "target_wait_minutes": row["target_wait_seconds"] // 60,
    }
    hours = load_json(row["hours"])
    if hours is not None:
        raw["hours"] = hours
    raw.update(rules_file_form(rules))
    return raw


def rules_file_form(rules: Mapping[str, Any]) -> dict[str, Any]:
    """Stored breaks, holidays (with names) and cut-off back in the hall file's form."""
    out: dict[str, Any] = {}
    if rules.get("breaks"):
        out["breaks"] = list(rules["breaks"])
    names = rules.get("holiday_names") or {}
    holidays = [{"date": d, "name": names[d]} if d in names else d for d in rules.get("holidays") or []]
    if holidays:
        out["holidays"] = holidays
    if "issuing_cutoff_minutes" in rules:
        out["issuing_cutoff_minutes"] = rules["issuing_cutoff_minutes"]
    return out


async def _live_agency(conn: asyncpg.Connection, branch_id: str, agency_id: str) -> None:
    found = await conn.fetchval(
        "SELECT 1 FROM agencies WHERE id = $1 AND branch_id = $2 AND deleted_at IS NULL", agency_id, branch_id
    )
    if found is None:
        raise InvalidRequest(f"branch {branch_id!r} has no agency {agency_id!r}")


async def _write_service(
    conn: asyncpg.Connection, branch_id: str, agency_id: str, raw: Mapping[str, Any], position: int | None
) -> None:
    await write_service(conn, branch_id, parse_service(raw, branch_id, agency_id), position)


async def write_service(conn: asyncpg.Connection, branch_id: str, svc: Service, position: int | None) -> None:
    """Insert or update a validated service (console and hall file); Conflict when its prefix is taken."""
    try:
        await conn.execute(
            "INSERT INTO services (id, branch_id, agency_id, name, prefix, daily_quota,"
            " expected_service_seconds, target_wait_seconds, hours, schedule, position)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11, 0))"
            " ON CONFLICT (id) DO UPDATE SET agency_id = EXCLUDED.agency_id, name = EXCLUDED.name,"
            " prefix = EXCLUDED.prefix, daily_quota = EXCLUDED.daily_quota,"
            " expected_service_seconds = EXCLUDED.expected_service_seconds,"
            " target_wait_seconds = EXCLUDED.target_wait_seconds, hours = EXCLUDED.hours,"
            " schedule = EXCLUDED.schedule, position = coalesce($11, services.position)",
            svc.id,
            branch_id,
            svc.agency_id,
            svc.name,
            svc.prefix,
            svc.daily_quota,
            svc.expected_service_seconds,
            svc.target_wait_seconds,
            json.dumps(dict(svc.hours)) if svc.hours is not None else None,
            json.dumps(dict(svc.rules)) if svc.rules else None,
            position,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"branch {branch_id!r} already has a service with the prefix {svc.prefix!r}") from None


_SERVICE = "SELECT s.*, b.timezone FROM services s JOIN branches b ON b.id = s.branch_id WHERE s.id = $1"
_SERVICE_LOCKED = _SERVICE + " FOR UPDATE OF s"


async def _service_row(conn: asyncpg.Connection, service_id: str, *, lock: bool = False) -> asyncpg.Record:
    row = await conn.fetchrow(_SERVICE_LOCKED if lock else _SERVICE, service_id)
    if row is None:
        raise NotFound(f"no service {service_id!r}")
    return row


async def service_branch(pool: asyncpg.Pool, service_id: str) -> str:
    """The branch of a service; NotFound when there is none."""
    branch = await pool.fetchval("SELECT branch_id FROM services WHERE id = $1", service_id)
    if branch is None:
        raise NotFound(f"no service {service_id!r}")
    return str(branch)


def _today(now: datetime, row: Mapping[str, Any]) -> date:
    return business_date(now, parse_zone(row["timezone"]))


async def create_service(
    pool: asyncpg.Pool, now: datetime, actor: User, branch_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Add a service to an agency of ``branch_id``; ``body`` is in the hall file's form."""
    actor.require_role(branch_id, *MASTER_DATA_ROLES)
    raw = {k: v for k, v in body.items() if v is not None and k not in ("agency_id", "position")}
    async with pool.acquire() as conn, conn.transaction():
        branch = await _branch(conn, branch_id)
        await _live_agency(conn, branch_id, body["agency_id"])
        if await conn.fetchval("SELECT 1 FROM services WHERE id = $1", raw.get("id")):
            raise Conflict(f"the service id {raw.get('id')!r} is taken")
        position = body.get("position")
        if position is None:
            position = await conn.fetchval(
                "SELECT coalesce(max(position) + 1, 0) FROM services WHERE branch_id = $1", branch_id
            )
        await _write_service(conn, branch_id, body["agency_id"], raw, position)
        after = service_out(await _service_row(conn, raw["id"]), _today(now, branch))
        await audit.record(conn, now, actor.username, "service.created", raw["id"], branch_id, after=after)
        await configured(conn, now, branch, "service", "created", raw["id"], list(raw), actor.username)
    return after


async def update_service(
    pool: asyncpg.Pool, now: datetime, actor: User, service_id: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change a service (hall-file form), or delete (``deleted: true``) / restore it."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _service_row(conn, service_id, lock=True)
        branch_id = row["branch_id"]
        actor.require_role(branch_id, *MASTER_DATA_ROLES)
        branch = await _branch(conn, branch_id)
        today = _today(now, branch)
        before = service_out(row, today)
        agency_id = changes.get("agency_id") or row["agency_id"]
        if agency_id != row["agency_id"]:
            await _live_agency(conn, branch_id, agency_id)
        edits = {k: v for k, v in changes.items() if k not in ("agency_id", "position", "deleted")}
        raw = {**service_file_form(row), **edits}
        await _write_service(conn, branch_id, agency_id, raw, changes.get("position"))
        action = "updated"
        if "deleted" in changes and changes["deleted"] != (row["deleted_at"] is not None):
            action = await _set_service_deleted(conn, now, row, bool(changes["deleted"]))
        after = service_out(await _service_row(conn, service_id), today)
        await audit.record(
            conn, now, actor.username, f"service.{action}", service_id, branch_id, before=before, after=after
        )
        await configured(conn, now, branch, "service", action, service_id, list(changes), actor.username)
    return after


async def _set_service_deleted(
    conn: asyncpg.Connection, now: datetime, row: Mapping[str, Any], deleted: bool
) -> str:
    if not deleted:
        try:
            await conn.execute("UPDATE services SET deleted_at = NULL WHERE id = $1", row["id"])
        except asyncpg.UniqueViolationError:
            raise Conflict(f"another live service has the prefix {row['prefix']!r}") from None
        return "updated"
    only = await conn.fetch(
        "SELECT id FROM counters WHERE branch_id = $1 AND deleted_at IS NULL"
        " AND service_ids = ARRAY[$2]::text[]",
        row["branch_id"],
        row["id"],
    )
    if only:
        names = ", ".join(r["id"] for r in only)
        raise Conflict(f"counter(s) {names} serve only {row['id']!r}: give them another service first")
    await conn.execute(
        "UPDATE counters SET service_ids = array_remove(service_ids, $1) WHERE $1 = ANY (service_ids)",
        row["id"],
    )
    await conn.execute("UPDATE services SET deleted_at = $2 WHERE id = $1", row["id"], now)
    return "deleted"


# -- counters ---------------------------------------------------------------------------------


def counter_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A counters row as the admin API shows it."""
    return {
        "id": row["id"],
        "branch_id": row["branch_id"],
        "name": row["name"],
        "zone": row["zone"],
        "service_ids": list(row["service_ids"]),
        "status": row["status"],
        "deleted": row["deleted_at"] is not None,
    }


async def _live_services(conn: asyncpg.Connection, branch_id: str) -> set[str]:
    rows = await conn.fetch("SELECT id FROM services WHERE branch_id = $1 AND deleted_at IS NULL", branch_id)
    return {r["id"] for r in rows}


async def create_counter(
    pool: asyncpg.Pool, now: datetime, actor: User, branch_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Add a counter (closed) to ``branch_id``."""
    actor.require_role(branch_id, *MASTER_DATA_ROLES)
    raw = {"id": body["id"], "name": body["name"], "zone": body["zone"], "services": body["service_ids"]}
    async with pool.acquire() as conn, conn.transaction():
        branch = await _branch(conn, branch_id)
        counter = parse_counter(raw, branch_id, await _live_services(conn, branch_id))
        position = body.get("position")
        if position is None:
            position = await conn.fetchval(
                "SELECT coalesce(max(position) + 1, 0) FROM counters WHERE branch_id = $1", branch_id
            )
        row = await conn.fetchrow(
            "INSERT INTO counters (id, branch_id, name, zone, service_ids, position)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING *",
            counter.id,
            branch_id,
            counter.name,
            counter.zone,
            list(counter.service_ids),
            position,
        )
        if row is None:
            raise Conflict(f"the counter id {counter.id!r} is taken")
        after = counter_out(row)
        await audit.record(conn, now, actor.username, "counter.created", counter.id, branch_id, after=after)
        await configured(conn, now, branch, "counter", "created", counter.id, list(raw), actor.username)
    return after


async def update_counter(
    pool: asyncpg.Pool, now: datetime, actor: User, counter_id: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change a counter (name, zone, services in order, position), or delete / restore it."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM counters WHERE id = $1 FOR UPDATE", counter_id)
        if row is None:
            raise NotFound(f"no counter {counter_id!r}")
        branch_id = row["branch_id"]
        actor.require_role(branch_id, *MASTER_DATA_ROLES)
        branch = await _branch(conn, branch_id)
        raw = {
            "id": counter_id,
            "name": changes.get("name") or row["name"],
            "zone": changes.get("zone") or row["zone"],
            "services": changes.get("service_ids") or list(row["service_ids"]),
        }
        counter = parse_counter(raw, branch_id, await _live_services(conn, branch_id))
        deleted_at = row["deleted_at"]
        action = "updated"
        if "deleted" in changes and changes["deleted"] != (deleted_at is not None):
            if changes["deleted"] and row["active_ticket_id"] is not None:
                raise Conflict(f"counter {counter_id!r} is serving a ticket; finish it first")
            deleted_at, action = (now, "deleted") if changes["deleted"] else (None, "updated")
        updated = await conn.fetchrow(
            "UPDATE counters SET name = $2, zone = $3, service_ids = $4, position = coalesce($5, position),"
            " deleted_at = $6, status = CASE WHEN $6::timestamptz IS NULL THEN status ELSE 'closed' END"
            " WHERE id = $1 RETURNING *",
            counter_id,
            counter.name,
            counter.zone,
            list(counter.service_ids),
            changes.get("position"),
            deleted_at,
        )
        assert updated is not None
        before, after = counter_out(row), counter_out(updated)
        await audit.record(
            conn, now, actor.username, f"counter.{action}", counter_id, branch_id, before=before, after=after
        )
        await configured(conn, now, branch, "counter", action, counter_id, list(changes), actor.username)
    return after


# -- the issuing switch -----------------------------------------------------------------------


async def set_issuing(
    pool: asyncpg.Pool, now: datetime, actor: User, service_id: str, open_: bool, reason: str | None
) -> dict[str, Any]:
    """Stop issuing for a service for the rest of today with ``reason``, or resume it."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _service_row(conn, service_id, lock=True)
        actor.require_role(row["branch_id"], *SUPERVISING_ROLES)
        if row["deleted_at"] is not None:
            raise NotFound(f"no service {service_id!r}")
        if not open_ and reason is None:
            raise InvalidRequest("stopping issuing needs a 'reason' the kiosk shows")
        branch = await _branch(conn, row["branch_id"])
        today = _today(now, branch)
        before = service_out(row, today)
        await conn.execute(
            "UPDATE services SET issuing_stopped_on = $2, issuing_stop_reason = $3 WHERE id = $1",
            service_id,
            None if open_ else today,
            None if open_ else reason,
        )
        after = service_out(await _service_row(conn, service_id), today)
        action = "issuing.opened" if open_ else "issuing.stopped"
        await audit.record(
            conn, now, actor.username, action, service_id, row["branch_id"], before=before, after=after
        )
        await configured(conn, now, branch, "issuing", "updated", service_id, ["issuing"], actor.username)
    return {"service_id": service_id, "open": open_, "reason": after["issuing_stop_reason"],
            "business_date": today.isoformat()}  # fmt: skip


# -- export -------------------------------------------------------------------------------------


async def export_hall(pool: asyncpg.Pool, branch_id: str) -> dict[str, Any]:
    """The live configuration of ``branch_id`` as a hall document the loader accepts (no users)."""
    async with pool.acquire() as conn:
        branch = await _branch(conn, branch_id)
        agencies = await conn.fetch(
            "SELECT id, name FROM agencies WHERE branch_id = $1 AND deleted_at IS NULL ORDER BY position, id",
            branch_id,
        )
        services = await conn.fetch(
            "SELECT * FROM services WHERE branch_id = $1 AND deleted_at IS NULL ORDER BY position, id",
            branch_id,
        )
        counters = await conn.fetch(
            "SELECT * FROM counters WHERE branch_id = $1 AND deleted_at IS NULL ORDER BY position, id",
            branch_id,
        )
    schedule = load_json(branch["schedule"])
    head: dict[str, Any] = {
        "id": branch["id"],
        "name": branch["name"],
        "timezone": branch["timezone"],
        "hours": schedule.get("hours", {}),
        **rules_file_form(schedule),
        "calling": {
            "max_priority_streak": branch["max_priority_streak"],
            "no_show_min_recalls": branch["no_show_min_recalls"],
            "no_show_min_seconds": branch["no_show_min_seconds"],
        },
    }
    head.setdefault("issuing_cutoff_minutes", 0)
    return {
        "branch": head,
        "agencies": [
            {
                "id": a["id"],
                "name": a["name"],
                "services": [service_file_form(s) for s in services if s["agency_id"] == a["id"]],
            }
            for a in agencies
        ],
        "counters": [
            {"id": c["id"], "name": c["name"], "zone": c["zone"], "services": list(c["service_ids"])}
            for c in counters
        ],
    }
