"""Start the metrics service: ``python -m services.metrics`` serves, ``… migrate`` migrates and exits."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime

import uvloop
from aiohttp import web

from services.metrics.app import init_app
from services.metrics.errors import MetricsError
from services.metrics.settings import Settings
from services.metrics.store import open_pool


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a JSON line."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Send logs to stderr: JSON lines or readable text."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


async def _migrate(settings: Settings) -> None:
    pool = await open_pool(settings.database_url, settings.db_schema)
    await pool.close()


def main(argv: list[str]) -> int:
    """Entry point; returns the exit status."""
    try:
        settings = Settings.from_env()
    except MetricsError as exc:
        print(f"metrics: configuration error: {exc}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    configure_logging(settings.log_format)
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
