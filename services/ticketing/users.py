"""Staff accounts in PostgreSQL: create, change, disable; every change audited.

Who may manage whom is decided here, beside the data it needs: the
deployment's admin manages everyone; a ``branch_admin`` manages the
supervisors and operators of their own branch and nobody else (never an admin
or another branch_admin). Disabling a user, changing their role or branch, or
resetting their password ends every session they hold at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.ticketing import audit, sessions
from services.ticketing.auth import Role, User, hash_password
from services.ticketing.errors import Conflict, Forbidden, InvalidRequest, NotFound

_MANAGED_BY_BRANCH_ADMIN = frozenset({Role.SUPERVISOR, Role.OPERATOR})
# Changes after which a user's open sessions no longer describe them.
_REVOKING = frozenset({"disabled", "role", "branch_id", "password", "counter_ids"})


@dataclass(frozen=True, slots=True)
class Account:
    """A staff user as the admin console lists them (never the hash)."""

    username: str
    role: str
    branch_id: str | None
    counter_ids: tuple[str, ...]
    disabled: bool
    created_at: datetime


def _account(row: asyncpg.Record) -> Account:
    return Account(
        row["username"],
        row["role"],
        row["branch_id"],
        tuple(row["counter_ids"]),
        row["disabled"],
        row["created_at"],
    )


def _public(account: Account) -> dict[str, Any]:
    return {
        "role": account.role,
        "branch_id": account.branch_id,
        "counter_ids": list(account.counter_ids),
        "disabled": account.disabled,
    }


def require_manager(actor: User, role: str, branch_id: str | None) -> None:
    """Raise Forbidden unless ``actor`` may manage a user with ``role`` in ``branch_id``."""
    if actor.is_admin:
        return
    if actor.role != Role.BRANCH_ADMIN or role not in _MANAGED_BY_BRANCH_ADMIN:
        raise Forbidden(f"user {actor.username!r} may not manage {role} accounts")
    if branch_id is None or branch_id != actor.branch_id:
        raise Forbidden(f"user {actor.username!r} may manage users of branch {actor.branch_id!r} only")


async def _check_placement(
    conn: asyncpg.Connection, role: str, branch_id: str | None, counter_ids: Sequence[str]
) -> None:
    if role != Role.ADMIN and branch_id is None:
        raise InvalidRequest(f"a {role} needs a 'branch_id'")
    if branch_id is not None and not await conn.fetchval("SELECT 1 FROM branches WHERE id = $1", branch_id):
        raise InvalidRequest(f"there is no branch {branch_id!r}")
    if counter_ids:
        found = await conn.fetch(
            "SELECT id FROM counters WHERE id = ANY($1::text[]) AND ($2::text IS NULL OR branch_id = $2)",
            list(counter_ids),
            branch_id,
        )
        missing = sorted(set(counter_ids) - {r["id"] for r in found})
        if missing:
            raise InvalidRequest(f"no such counter in branch {branch_id!r}: {', '.join(missing)}")


async def get(pool: asyncpg.Pool | asyncpg.Connection, username: str) -> Account:
    """One account; NotFound when there is none."""
    row = await pool.fetchrow(
        "SELECT username, role, branch_id, counter_ids, disabled, created_at FROM users WHERE username = $1",
        username,
    )
    if row is None:
        raise NotFound(f"no user {username!r}")
    return _account(row)


async def listing(pool: asyncpg.Pool, actor: User, branch_id: str | None) -> list[Account]:
    """The accounts ``actor`` may see: all for an admin, their branch's for anyone else."""
    if not actor.is_admin:
        actor.require_role(actor.branch_id, Role.BRANCH_ADMIN, Role.SUPERVISOR)
        branch_id = actor.branch_id
    rows = await pool.fetch(
        "SELECT username, role, branch_id, counter_ids, disabled, created_at FROM users"
        " WHERE $1::text IS NULL OR branch_id = $1 ORDER BY username",
        branch_id,
    )
    return [_account(r) for r in rows]


async def create(
    pool: asyncpg.Pool,
    now: datetime,
    actor: User,
    *,
    username: str,
    password: str,
    role: str,
    branch_id: str | None,
    counter_ids: Sequence[str],
) -> Account:
    """Create a user; Conflict when the name is taken."""
    require_manager(actor, role, branch_id)
    hashed = await asyncio.to_thread(hash_password, password)
    async with pool.acquire() as conn, conn.transaction():
        await _check_placement(conn, role, branch_id, counter_ids)
        inserted = await conn.fetchval(
            "INSERT INTO users"
            " (username, role, password_hash, counter_ids, branch_id, created_at, password_changed_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (username) DO NOTHING RETURNING 1",
            username,
            role,
            hashed,
            list(counter_ids),
            branch_id,
            now,
        )
        if inserted is None:
            raise Conflict(f"the user name {username!r} is taken")
        account = await get(conn, username)
        await audit.record(
            conn, now, actor.username, "user.created", username, branch_id, after=_public(account)
        )
    return account


async def update(
    pool: asyncpg.Pool, now: datetime, actor: User, username: str, changes: dict[str, Any]
) -> Account:
    """Apply ``changes`` (role, branch_id, counter_ids, disabled, password) to ``username``."""
    if username == actor.username and ("role" in changes or changes.get("disabled")):
        raise Forbidden("you cannot change your own role or disable yourself")
    if username == actor.username and _REVOKING & changes.keys():
        raise Forbidden(
            "your own password changes through POST /api/v1/auth/password (with the current one);"
            " your branch and counters through another admin"
        )
    hashed = await asyncio.to_thread(hash_password, changes["password"]) if "password" in changes else None
    async with pool.acquire() as conn, conn.transaction():
        before = await get(conn, username)
        require_manager(actor, before.role, before.branch_id)
        role = changes.get("role", before.role)
        branch_id = changes.get("branch_id", before.branch_id)
        counter_ids = changes.get("counter_ids", before.counter_ids)
        require_manager(actor, role, branch_id)
        await _check_placement(conn, role, branch_id, counter_ids)
        await conn.execute(
            "UPDATE users SET role = $2, branch_id = $3, counter_ids = $4, disabled = $5,"
            " password_hash = coalesce($6, password_hash),"
            " password_changed_at = CASE WHEN $6::text IS NULL THEN password_changed_at ELSE $7 END"
            " WHERE username = $1",
            username,
            role,
            branch_id,
            list(counter_ids),
            changes.get("disabled", before.disabled),
            hashed,
            now,
        )
        after = await get(conn, username)
        if _REVOKING & changes.keys():
            await sessions.revoke_all(conn, username)
        audited = _public(after) | ({"password": "reset"} if hashed else {})
        await audit.record(
            conn,
            now,
            actor.username,
            "user.updated",
            username,
            after.branch_id,
            before=_public(before),
            after=audited,
        )
    return after
