"""Start-up of the ticketing service.

python -m services.ticketing                 serve the HTTP API (default port 8080)
python -m services.ticketing migrate         apply migrations, create the first admin
python -m services.ticketing seed FILE...    load hall files idempotently
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import uvloop
from aiohttp import web

from services.platform.logs import configure
from services.ticketing import db
from services.ticketing.app import init_app
from services.ticketing.errors import TicketingError
from services.ticketing.migrate import MigrationError, migrate
from services.ticketing.seed import load_hall_file, seed_hall
from services.ticketing.sessions import ensure_admin
from services.ticketing.settings import Settings, SettingsError

log = logging.getLogger("services.ticketing")


async def _migrate(settings: Settings) -> None:
    conn = await db.connect(settings.database_url, settings.db_schema)
    try:
        applied = await migrate(conn, settings.db_schema)
        await ensure_admin(conn, settings.admin_password)
    finally:
        await conn.close()
    print(f"schema {settings.db_schema}: applied {', '.join(applied) or 'nothing (up to date)'}")  # noqa: T201


async def _seed(settings: Settings, files: list[str]) -> None:
    halls = [load_hall_file(Path(name)) for name in files]
    conn = await db.connect(settings.database_url, settings.db_schema)
    try:
        await migrate(conn, settings.db_schema)
        await ensure_admin(conn, settings.admin_password)
        for hall in halls:
            counts = await seed_hall(conn, hall, os.environ)
            print(  # noqa: T201
                f"seeded {hall.id} ({hall.name}, {hall.timezone}): {counts['agencies']} agencies,"
                f" {counts['services']} services, {counts['counters']} counters, {counts['users']} users"
            )
    finally:
        await conn.close()


def main(argv: list[str]) -> int:
    """Run one command; return the exit status."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"ticketing: bad configuration: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    configure("ticketing", settings.log_format)
    command = argv[0] if argv else "serve"
    try:
        if command == "serve":
            log.info(
                "ticketing listening on %s:%s (schema %s)", settings.host, settings.port, settings.db_schema
            )
            web.run_app(
                init_app(settings), host=settings.host, port=settings.port, print=None, access_log=None
            )
        elif command == "migrate":
            asyncio.run(_migrate(settings))
        elif command == "seed" and len(argv) > 1:
            asyncio.run(_seed(settings, argv[1:]))
        else:
            print(__doc__, file=sys.stderr)  # noqa: T201
            return 2
    except (TicketingError, MigrationError) as exc:
        print(f"ticketing {command}: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    except OSError as exc:
        print(f"ticketing {command}: cannot reach a dependency: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    if os.environ.get("ANTRIAN_UVLOOP", "1") != "0":  # the faster event loop, on unless turned off
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    sys.exit(main(sys.argv[1:]))
