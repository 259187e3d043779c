"""Forward-only SQL migrations, applied at start-up under an advisory lock."""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

logger = logging.getLogger(__name__)

# Any constant works; it only has to differ from other services' locks.
_LOCK_KEY = 0x6D657472  # "metr"


def migration_files() -> list[tuple[str, str]]:
    """The (version, sql) pairs of ``migrations/NNN_name.sql`` in version order."""
    folder = resources.files("services.metrics") / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


async def migrate(conn: Any, schema: str) -> list[str]:
    """Apply pending migrations to ``schema``; return the versions applied now.

    The schema name is interpolated into SQL (identifiers cannot be bound
    parameters); the settings only admit ``[a-z_][a-z0-9_]*``.

    ``conn`` is an asyncpg connection whose search_path is ``schema``;
    ``schema`` was validated as a plain identifier by the settings.
    """
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", _LOCK_KEY, schema)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')}  # noqa: S608
        for version, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    f'INSERT INTO "{schema}".schema_migrations (version) VALUES ($1)',  # noqa: S608
                    version,
                )
            logger.info("applied migration %s to schema %s", version, schema)
            applied_now.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", _LOCK_KEY, schema)
    return applied_now
