"""Users and their sessions in PostgreSQL: log in, authenticate a bearer token, the first admin."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import asyncpg

from services.ticketing.auth import User, hash_password, new_token, token_digest, verify_password
from services.ticketing.errors import Unauthorized

log = logging.getLogger(__name__)


async def login(
    pool: asyncpg.Pool, now: datetime, username: str, password: str, ttl_seconds: int
) -> tuple[str, datetime, User]:
    """Check the password and open a session; return ``(token, expires_at, user)``."""
    row = await pool.fetchrow("SELECT * FROM users WHERE username = $1", username)
    stored = row["password_hash"] if row is not None else None
    # argon2 is deliberately slow: keep it off the event loop.
    if row is None or not await asyncio.to_thread(verify_password, stored, password):
        log.info("failed login for %r", username)
        raise Unauthorized("wrong user name or password")
    token, expires = new_token(), now + timedelta(seconds=ttl_seconds)
    await pool.execute(
        "INSERT INTO sessions (token_hash, username, expires_at) VALUES ($1, $2, $3)",
        token_digest(token),
        username,
        expires,
    )
    await pool.execute("DELETE FROM sessions WHERE expires_at < $1", now)
    return token, expires, User(row["username"], row["role"], tuple(row["counter_ids"]))


async def authenticate(pool: asyncpg.Pool, now: datetime, token: str) -> User:
    """The user holding an unexpired ``token``; Unauthorized otherwise."""
    row = await pool.fetchrow(
        "SELECT u.username, u.role, u.counter_ids FROM sessions s JOIN users u ON u.username = s.username"
        " WHERE s.token_hash = $1 AND s.expires_at > $2",
        token_digest(token),
        now,
    )
    if row is None:
        raise Unauthorized("the token is unknown or expired; log in again")
    return User(row["username"], row["role"], tuple(row["counter_ids"]))


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
