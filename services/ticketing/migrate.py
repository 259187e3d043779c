"""The ticketing schema's migrations (``migrations/NNN_name.sql``), applied by the platform runner."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from services.platform.migrate import MigrationError
from services.platform.migrate import migrate as _migrate

__all__ = ["MIGRATIONS", "MigrationError", "migrate"]

MIGRATIONS = Path(__file__).with_name("migrations")


async def migrate(conn: asyncpg.Connection, schema: str, directory: Path = MIGRATIONS) -> list[str]:
    """Bring ``schema`` up to date; return the versions applied now."""
    return await _migrate(conn, schema, directory)
