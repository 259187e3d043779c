"""Sessions in PostgreSQL: log in (throttled), authenticate, log out, revoke, the first admin.

Log-in costs the same for a known and an unknown user name: the password is
always checked against a hash (a dummy one for unknown names), so timing does
not tell which names exist. Failed log-ins are counted per user name and per
client address; after a few, each further failure doubles the wait
(:func:`services.ticketing.domain.throttle.login_delay`) and a log-in during
the wait is refused with 429 and ``Retry-After`` before any password check.
A disabled user, or one whose sessions were revoked, is refused from the very
next request: every request looks its token up.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.ticketing.auth import User, hash_password, new_token, token_digest, verify_password
from services.ticketing.domain.throttle import Backoff, login_delay
from services.ticketing.errors import TooManyRequests, Unauthorized

log = logging.getLogger(__name__)

WRONG_CREDENTIALS = "wrong user name or password"
DEFAULT_BACKOFF = Backoff()
_USER_COLUMNS = "u.username, u.role, u.counter_ids, u.branch_id"


def user_from_row(row: asyncpg.Record) -> User:
    """The :class:`User` of a ``users`` row (or a join that has its columns)."""
    return User(row["username"], row["role"], tuple(row["counter_ids"]), row["branch_id"])


@dataclass(frozen=True, slots=True)
class Session:
    """One open session of a user, as listed to its owner (never the token)."""

    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None
    client: str | None
    current: bool


async def _locked_until(conn: asyncpg.Connection, username: str, client: str) -> datetime | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT max(locked_until) FROM login_failures"
        " WHERE (scope = 'user' AND key = $1) OR (scope = 'address' AND key = $2)",
        username,
        client,
    )


async def _record_failure(
    conn: asyncpg.Connection, now: datetime, username: str, client: str, policy: Backoff
) -> None:
    for scope, key in (("user", username), ("address", client)):
        failures = await conn.fetchval(
            "INSERT INTO login_failures AS f (scope, key, failures, last_failure, locked_until)"
            " VALUES ($1, $2, 1, $3, $3)"
            " ON CONFLICT (scope, key) DO UPDATE SET failures = f.failures + 1, last_failure = $3"
            " RETURNING failures",
            scope,
            key,
            now,
        )
        wait = timedelta(seconds=login_delay(failures, policy))
        await conn.execute(
            "UPDATE login_failures SET locked_until = $3 WHERE scope = $1 AND key = $2",
            scope,
            key,
            now + wait,
        )


async def login(
    pool: asyncpg.Pool,
    now: datetime,
    username: str,
    password: str,
    ttl_seconds: int,
    *,
    client: str = "unknown",
    policy: Backoff = DEFAULT_BACKOFF,
) -> tuple[str, datetime, User]:
    """Check the password and open a session; return ``(token, expires_at, user)``.

    Raises :class:`TooManyRequests` while the user name or the client address
    is backing off, :class:`Unauthorized` for wrong credentials or a disabled user.
    Attempts on one user name are taken one at a time, so parallel guesses
    cannot all pass the back-off check before the first failure is counted.
    """
    lock = _ATTEMPTS.setdefault(username, asyncio.Lock())
    async with lock:
        return await _login(pool, now, username, password, ttl_seconds, client, policy)


# One lock per user name with an attempt in progress (weak: gone when nobody waits).
_ATTEMPTS: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


async def _login(
    pool: asyncpg.Pool,
    now: datetime,
    username: str,
    password: str,
    ttl_seconds: int,
    client: str,
    policy: Backoff,
) -> tuple[str, datetime, User]:
    locked = await _locked_until(pool, username, client)
    if locked is not None and locked > now:
        raise TooManyRequests(
            "too many failed log-ins; wait before trying again",
            retry_after=(locked - now).total_seconds(),
        )
    row = await pool.fetchrow(
        "SELECT u.password_hash, u.disabled, " + _USER_COLUMNS + " FROM users u WHERE u.username = $1",  # noqa: S608
        username,
    )
    stored = row["password_hash"] if row is not None else None
    # argon2 is deliberately slow: keep it off the event loop; unknown names pay the same.
    matches = await asyncio.to_thread(verify_password, stored, password)
    if row is None or not matches or row["disabled"]:
        async with pool.acquire() as conn, conn.transaction():
            await _record_failure(conn, now, username, client, policy)
        log.info("failed login for %r from %s", username, client)
        raise Unauthorized(WRONG_CREDENTIALS)
    token, expires = new_token(), now + timedelta(seconds=ttl_seconds)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM login_failures"
            " WHERE (scope = 'user' AND key = $1) OR (scope = 'address' AND key = $2)",
            username,
            client,
        )
        await conn.execute(
            "INSERT INTO sessions (token_hash, username, expires_at, created_at, client)"
            " VALUES ($1, $2, $3, $4, $5)",
            token_digest(token),
            username,
            expires,
            now,
            client[:200],
        )
        await conn.execute("DELETE FROM sessions WHERE expires_at < $1", now)
    return token, expires, user_from_row(row)


async def authenticate(pool: asyncpg.Pool, now: datetime, token: str) -> User:
    """The enabled user holding an unexpired ``token``; Unauthorized otherwise."""
    row = await pool.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM sessions s JOIN users u ON u.username = s.username"  # noqa: S608 - constant
        " WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled",
        token_digest(token),
        now,
    )
    if row is None:
        raise Unauthorized("the token is unknown, expired or revoked; log in again")
    return user_from_row(row)


async def logout(pool: asyncpg.Pool, token: str) -> None:
    """End the session of ``token`` (a token already ended is not an error)."""
    await pool.execute("DELETE FROM sessions WHERE token_hash = $1", token_digest(token))


async def revoke_all(conn: asyncpg.Connection | asyncpg.Pool, username: str) -> int:
    """End every session of ``username``; the number ended."""
    status: str = await conn.execute("DELETE FROM sessions WHERE username = $1", username)
    return int(status.rsplit(" ", 1)[-1])


async def list_sessions(pool: asyncpg.Pool, now: datetime, username: str, token: str) -> list[Session]:
    """The open sessions of ``username``, newest first, marking the caller's own."""
    rows = await pool.fetch(
        "SELECT id, created_at, expires_at, last_seen_at, client, token_hash = $3 AS current"
        " FROM sessions WHERE username = $1 AND expires_at > $2 ORDER BY created_at DESC",
        username,
        now,
        token_digest(token),
    )
    return [Session(**dict(r)) for r in rows]


async def end_session(pool: asyncpg.Pool, username: str, session_id: uuid.UUID) -> bool:
    """End one of ``username``'s own sessions by id; False when there is none such."""
    status: str = await pool.execute(
        "DELETE FROM sessions WHERE username = $1 AND id = $2", username, session_id
    )
    return status != "DELETE 0"


async def change_password(
    pool: asyncpg.Pool, now: datetime, username: str, current: str, new: str, keep_token: str
) -> None:
    """Set a new password after checking the current one; every other session is ended."""
    stored = await pool.fetchval("SELECT password_hash FROM users WHERE username = $1", username)
    if not await asyncio.to_thread(verify_password, stored, current):
        raise Unauthorized("the current password is wrong")
    hashed = await asyncio.to_thread(hash_password, new)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE username = $1",
            username,
            hashed,
            now,
        )
        await conn.execute(
            "DELETE FROM sessions WHERE username = $1 AND token_hash <> $2",
            username,
            token_digest(keep_token),
        )


async def ensure_admin(conn: asyncpg.Connection, password: str | None) -> bool:
    """Create the user ``admin`` from ``ANTRIAN_ADMIN_PASSWORD`` if no admin exists; True if created."""
    if await conn.fetchval("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1"):
        return False
    if password is None:
        log.warning(
            "no admin user exists; set ANTRIAN_ADMIN_PASSWORD and run `python -m services.ticketing migrate`"
        )
        return False
    hashed = await asyncio.to_thread(hash_password, password)
    await conn.execute(
        "INSERT INTO users (username, role, password_hash) VALUES ('admin', 'admin', $1)"
        " ON CONFLICT (username) DO UPDATE SET role = 'admin', password_hash = EXCLUDED.password_hash",
        hashed,
    )
    log.info("created the first admin user 'admin'")
    return True
