"""Versioned, forward-only SQL migrations for the ticketing schema.

Each ``migrations/NNN_name.sql`` file is applied once, in order, in its own
transaction, and recorded in ``<schema>.schema_migrations``. An advisory
lock makes concurrent start-ups safe: the second one waits, then finds
nothing left to do.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_FILE_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationError(RuntimeError):
    """A migration file is misnamed, duplicated or failed to apply."""


def pending_files(directory: Path, applied: set[str]) -> list[tuple[str, Path]]:
    """The migration files not yet applied, as ``(version, path)`` in order."""
    found: dict[str, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_RE.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name must look like 001_name.sql: {path.name}")
        version = match.group(1)
        if version in found:
            raise MigrationError(
                f"two migrations share version {version}: {found[version].name}, {path.name}"
            )
        found[version] = path
    return [(v, p) for v, p in sorted(found.items()) if v not in applied]


async def migrate(conn: asyncpg.Connection, schema: str, directory: Path = MIGRATIONS) -> list[str]:
    """Bring ``schema`` up to date; return the versions applied now."""
    if not _SCHEMA_RE.match(schema):
        raise MigrationError(f"invalid schema name: {schema!r}")
    # One lock per schema: tests migrate many schemas side by side.
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"antrian-migrate:{schema}")
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(f"SET search_path TO {schema}")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        done: list[str] = []
        for version, path in pending_files(directory, applied):
            async with conn.transaction():
                try:
                    await conn.execute(path.read_text(encoding="utf-8"))
                except asyncpg.PostgresError as exc:
                    raise MigrationError(f"{path.name} failed: {exc}") from exc
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, path.name
                )
            log.info("applied migration %s to schema %s", path.name, schema)
            done.append(version)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"antrian-migrate:{schema}")
