"""The audit trail: who did what to which target, when, with the state before and after.

Written in the transaction of the change it records, so an action and its
audit entry exist together or not at all. Entries older than the retention
period are purged by housekeeping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the audit trail."""

    at: datetime
    actor: str
    action: str
    target: str
    branch_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _jsonb(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


async def record(
    conn: asyncpg.Connection,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    branch_id: str | None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry (inside the caller's transaction)."""
    await conn.execute(
        "INSERT INTO audit_log (at, actor, action, target, branch_id, before, after)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)",
        at,
        actor,
        action,
        target,
        branch_id,
        _jsonb(before),
        _jsonb(after),
    )


async def entries(
    pool: asyncpg.Pool,
    *,
    branch_id: str | None,
    before: datetime | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[Entry]:
    """Entries newest first, of one branch (None: every branch), older than ``before`` when given."""
    rows = await pool.fetch(
        "SELECT at, actor, action, target, branch_id, before, after FROM audit_log"
        " WHERE ($1::text IS NULL OR branch_id = $1) AND ($2::timestamptz IS NULL OR at < $2)"
        " AND ($3::text IS NULL OR action = $3)"
        " ORDER BY at DESC, id DESC LIMIT $4",
        branch_id,
        before,
        action,
        limit,
    )
    return [
        Entry(
            r["at"],
            r["actor"],
            r["action"],
            r["target"],
            r["branch_id"],
            json.loads(r["before"]) if r["before"] is not None else None,
            json.loads(r["after"]) if r["after"] is not None else None,
        )
        for r in rows
    ]


async def purge(pool: asyncpg.Pool, older_than: datetime) -> int:
    """Delete entries older than ``older_than``; the number deleted."""
    status: str = await pool.execute("DELETE FROM audit_log WHERE at < $1", older_than)
    return int(status.rsplit(" ", 1)[-1])
