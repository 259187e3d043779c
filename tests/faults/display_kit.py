"""Test kit for the display's fault tests: the display as its own process, and a stand-in ticketing.

The display runs as ``python -m services.display`` (the real entry point, its
own process and port); ticketing's branch directory is a small aiohttp app
that a test starts when it wants ticketing to come up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DisplayProcess:
    """A running display process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        """Its HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    def ws(self, path: str) -> str:
        """Its websocket URL for ``path``."""
        return f"ws://127.0.0.1:{self.port}{path}"

    async def get(self, path: str) -> tuple[int, Any]:
        """GET ``path``; (status, JSON body or None)."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(self.base + path) as r:
            body = await r.json(content_type=None) if r.content_type.endswith("json") else None
            return r.status, body


@asynccontextmanager
async def display_process(
    bootstrap: str, topic: str, dlq: str, tmp: Path, *, ready: bool = True, **env: str
) -> AsyncIterator[DisplayProcess]:
    """Start the display process on a free port; wait for /readyz (or /healthz); SIGTERM it after."""
    port = free_port()
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DISPLAY_HOST": "127.0.0.1",
        "DISPLAY_PORT": str(port),
        "ANTRIAN_EVENTS_TOPIC": topic,
        "ANTRIAN_DLQ_TOPIC": dlq,
        "DISPLAY_TICKETING_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens unless given
        "DISPLAY_AUDIO_CACHE": str(tmp / "audio"),
        "DISPLAY_PING_INTERVAL": "5",
        "ANTRIAN_LOG_FORMAT": "text",
        **env,
    }
    log = (tmp / f"display-{port}.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220  (a child process for the whole test)
        [sys.executable, "-m", "services.display"], cwd=ROOT, env=environment, stdout=log, stderr=log
    )
    running = DisplayProcess(port, process)
    try:
        await wait_until(lambda: _answers(running, "/readyz" if ready else "/healthz"), within=60)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 20)
        log.close()


async def _answers(display: DisplayProcess, path: str) -> bool:
    if display.process.poll() is not None:
        raise AssertionError(f"the display exited with {display.process.returncode}")
    try:
        status, _ = await display.get(path)
    except aiohttp.ClientError:
        return False
    return status == 200


async def wait_until(check: Any, within: float, every: float = 0.1) -> None:
    """Poll the async ``check`` until it is true (bounded by ``within`` seconds)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110  (polls another process)
            await asyncio.sleep(every)


@dataclass
class Ticketing:
    """Ticketing's branch directory as the display asks it: ``GET /api/v1/branches/{id}``."""

    branches: dict[str, dict[str, Any]] = field(default_factory=dict)
    runner: web.AppRunner | None = None

    async def branch(self, request: web.Request) -> web.Response:
        body = self.branches.get(request.match_info["branch_id"])
        if body is None:
            return web.json_response({"title": "Not Found", "status": 404}, status=404)
        return web.json_response(body)

    async def start(self, port: int) -> None:
        """Listen on ``port`` (ticketing comes up)."""
        app = web.Application()
        app.router.add_get("/api/v1/branches/{branch_id}", self.branch)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()
