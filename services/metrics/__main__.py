"""Start the metrics service: ``python -m services.metrics`` serves, ``… migrate`` migrates and exits."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import uvloop
from aiohttp import web

from services.metrics.app import init_app
from services.metrics.errors import MetricsError, SettingsError
from services.metrics.settings import Settings
from services.metrics.store import open_pool
from services.platform.logs import configure


async def _migrate(settings: Settings) -> None:
    pool = await open_pool(settings.database_url, settings.db_schema)
    await pool.close()


def main(argv: list[str]) -> int:
    """Entry point; returns the exit status."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"metrics: configuration error: {exc}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    configure("metrics", settings.log_format)
    log = logging.getLogger("services.metrics")
    try:
        if argv[:1] == ["migrate"]:
            asyncio.run(_migrate(settings))
            log.info("schema %s migrated", settings.db_schema)
            return 0
        if argv:
            log.error("unknown command %r (expected nothing or 'migrate')", argv[0])
            return 2
        web.run_app(init_app(settings), host=settings.host, port=settings.port, print=None, access_log=None)
    except MetricsError as exc:
        log.error("metrics service stopped: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    if os.environ.get("ANTRIAN_UVLOOP", "1") != "0":  # the faster event loop, on unless turned off
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    sys.exit(main(sys.argv[1:]))
