"""The metrics schema's migrations (``migrations/NNN_name.sql``), applied by the platform runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.platform.migrate import migrate as _migrate

MIGRATIONS = Path(__file__).with_name("migrations")


async def migrate(conn: Any, schema: str) -> list[str]:
    """Bring ``schema`` up to date; return the versions applied now."""
    return await _migrate(conn, schema, MIGRATIONS)
