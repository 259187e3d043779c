"""Start the display service: ``python -m services.display``.

Only this module configures logging: JSON lines when stderr is not a tty (or
``ANTRIAN_LOG_FORMAT=json``), readable lines otherwise. SIGTERM and SIGINT
stop accepting, close every screen with 1001 (going away), drain and exit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from datetime import UTC, datetime

from services.display.app import init_app
from services.display.errors import SettingsError
from services.display.server import start
from services.display.settings import Settings

log = logging.getLogger("services.display")


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": "display",
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str | None) -> None:
    """Install the one handler of the process."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = log_format == "json" or (log_format is None and not sys.stderr.isatty())
    if use_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    running = await start(init_app(settings), settings.host, settings.port)
    await stop.wait()
    log.info("stopping: closing screens and draining")
    await running.close()


def main() -> int:
    """Entry point; returns the process exit status."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"display: {exc}", file=sys.stderr)  # noqa: T201  (logging is not configured yet)
        return 2
    configure_logging(settings.log_format)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
