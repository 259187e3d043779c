"""Start the display service: ``python -m services.display``.

Only this module configures logging: JSON lines when stderr is not a tty (or
``ANTRIAN_LOG_FORMAT=json``), readable lines otherwise. SIGTERM and SIGINT
stop accepting, close every screen with 1001 (going away), drain and exit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import uvloop

from services.display.app import init_app
from services.display.server import start
from services.display.settings import Settings
from services.platform.logs import configure
from services.platform.settings import SettingsError

log = logging.getLogger("services.display")


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
    configure("display", settings.log_format)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    if os.environ.get("ANTRIAN_UVLOOP", "1") != "0":  # the faster event loop, on unless turned off
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    sys.exit(main())
