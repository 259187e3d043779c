"""Versioned, forward-only SQL migrations, safe when several replicas start at once.

Each ``NNN_name.sql`` file of a service's migrations folder is applied once,
in order, in its own transaction, and recorded in ``<schema>.schema_migrations``.
A PostgreSQL advisory lock per schema serialises concurrent start-ups: the
first replica migrates, the others wait, then find nothing left to do.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

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


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")  # a few KiB of SQL at start-up


async def _prepare(conn: asyncpg.Connection, schema: str) -> set[str]:
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    await conn.execute(f"SET search_path TO {schema}")
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, name text NOT NULL DEFAULT '',"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    # Older metrics schemas recorded the whole stem ("001_initial") and no name.
    await conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS name text NOT NULL DEFAULT ''")
    return {r["version"][:3] for r in await conn.fetch("SELECT version FROM schema_migrations")}


async def _apply(conn: asyncpg.Connection, version: str, path: Path) -> None:
    async with conn.transaction():
        try:
            await conn.execute(_read(path))
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"{path.name} failed: {exc}") from exc
        await conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, path.name
        )


async def migrate(conn: asyncpg.Connection, schema: str, directory: Path) -> list[str]:
    """Bring ``schema`` up to date from ``directory``; return the versions applied now.

    The schema name is interpolated into SQL (identifiers cannot be bound
    parameters), so it must be a plain lower-case identifier. The connection's
    ``search_path`` is left at ``schema``.
    """
    if not _SCHEMA_RE.match(schema):
        raise MigrationError(f"invalid schema name: {schema!r}")
    lock = f"antrian-migrate:{schema}"  # one lock per schema: tests migrate many side by side
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", lock)
    try:
        applied = await _prepare(conn, schema)
        done: list[str] = []
        for version, path in pending_files(directory, applied):
            await _apply(conn, version, path)
            log.info("applied migration %s to schema %s", path.name, schema)
            done.append(version)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock)
