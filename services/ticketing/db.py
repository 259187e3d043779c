"""The PostgreSQL pool: every connection's search_path is the service schema."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


def load_json(value: object) -> Any:
    """A jsonb column's value (asyncpg hands jsonb over as text; outbox.enqueue writes text)."""
    return json.loads(value) if isinstance(value, str) else value


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (one round trip per request).

    asyncpg still rolls back an open transaction and drops listeners before
    calling this. Nothing else needs resetting: the API's pooled connections
    hold no session state (no SET, LISTEN, advisory or prepared-by-name
    statements); the relay and the live hub use connections of their own.
    """


async def create_pool(dsn: str, schema: str, *, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose unqualified table names resolve in ``schema``."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": "antrian-ticketing"},
        command_timeout=30,
        reset=_keep_session,
    )
    return pool


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    """One connection (commands such as migrate and seed)."""
    conn: asyncpg.Connection = await asyncpg.connect(
        dsn, server_settings={"search_path": schema, "application_name": "antrian-ticketing"}
    )
    return conn
