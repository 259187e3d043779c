"""The aiohttp application: hall page, audio, health, metrics and a JSON snapshot.

``init_app(settings)`` builds everything; the consumer and directory tasks
start and stop in ``cleanup_ctx``. The websocket endpoint ``/ws/…`` is served
by the ``websockets`` library on the same port (see ``server``); the hub it
uses lives here under :data:`HUB`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.display import contract
from services.display.audio import AUDIO_ID_LENGTH, AudioStore
from services.display.board import Clock, ScreenBoard
from services.display.consumer import EventConsumer
from services.display.directory import Directory
from services.display.errors import AudioError
from services.display.hub import Hub, parse_target
from services.display.metrics import DisplayMetrics
from services.display.settings import Settings
from services.events.types import ID_PATTERN
from services.platform.health import Check, add_health_routes
from services.platform.http import edge_middleware, secure
from services.platform.problems import problem, unavailable

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).parent / "page"
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", DisplayMetrics)
BOARD = web.AppKey("board", ScreenBoard)
HUB = web.AppKey("hub", Hub)
CONSUMER = web.AppKey("consumer", EventConsumer)
DIRECTORY = web.AppKey("directory", Directory)

_BRANCH_RE = re.compile(ID_PATTERN)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def init_app(settings: Settings, *, clock: Clock = _utc_now) -> web.Application:
    """Build the display application (nothing starts until the app runs)."""
    metrics = DisplayMetrics()
    app = web.Application(middlewares=[edge_middleware(metrics.http_duration)])
    secure(app, framable=lambda request: _frame_ancestors(request, settings))
    directory = Directory(settings.ticketing_url, settings.default_timezone, settings.directory_ttl_seconds)
    board = ScreenBoard(directory, AudioStore(settings.audio_cache, settings.espeak), clock)
    hub = Hub(
        board.snapshot,
        metrics,
        ready=lambda: board.ready,
        exists=board.exists,
        buffer_limit=settings.client_buffer_bytes,
        heartbeat_seconds=settings.ping_interval_seconds,
    )
    directory.listeners.append(lambda branch_id: hub.resync(branch_id) if board.ready else None)
    app[SETTINGS], app[METRICS], app[BOARD], app[HUB] = settings, metrics, board, hub
    app[DIRECTORY] = directory
    app[CONSUMER] = consumer = EventConsumer(settings, board, hub, metrics)
    directory.listeners.append(consumer.request_resync)  # re-fold with the branch's real time zone
    app.cleanup_ctx.append(_background_tasks)
    add_health_routes(app, CHECKS)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/display/{branch_id}", display_page)
    app.router.add_get("/api/v1/branches/{branch_id}/screen", screen_json)
    app.router.add_get("/audio/{audio_id:[0-9a-f]{" + str(AUDIO_ID_LENGTH) + "}}.wav", audio_file)
    app.router.add_static("/static", PAGE_DIR)
    contract.add_documentation(app)
    return app


async def _background_tasks(app: web.Application) -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(app[CONSUMER].run(), name="display-consumer"),
        asyncio.create_task(app[DIRECTORY].run(), name="display-directory"),
        asyncio.create_task(_heartbeat(app), name="display-heartbeat"),
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _heartbeat(app: web.Application) -> None:
    """Heartbeats for the pages, and a fresh (empty) snapshot when a branch's day rolls over."""
    board, hub = app[BOARD], app[HUB]
    while True:
        await asyncio.sleep(app[SETTINGS].ping_interval_seconds)
        for branch_id in board.new_days():
            hub.resync(branch_id)
        hub.heartbeat()


def _frame_ancestors(request: web.Request, settings: Settings) -> tuple[str, ...]:
    """Only the hall page may be framed, and only by the configured ancestors."""
    return settings.frame_ancestors if request.path.startswith("/display/") else ()


async def _rebuilt(app: web.Application) -> bool:
    """Today's state is rebuilt and no branch waits to be re-read after a sequence gap."""
    return app[BOARD].ready and app[CONSUMER].settled()


async def _described(app: web.Application) -> bool:
    """Ticketing has described every branch with events today (a failed look-up is retried)."""
    board = app[BOARD]
    return all(board.directory.described(branch_id) for branch_id in board.screens)


async def _kafka_up(app: web.Application) -> bool:
    return await app[CONSUMER].healthy()


CHECKS = (Check("rebuild", _rebuilt), Check("directory", _described), Check("kafka", _kafka_up))


async def metrics_page(request: web.Request) -> web.Response:
    """The Prometheus exposition of this instance."""
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _branch(request: web.Request) -> str:
    branch_id = request.match_info["branch_id"]
    if not _BRANCH_RE.match(branch_id):
        raise web.HTTPNotFound(reason="Unknown branch id")
    return branch_id


async def display_page(request: web.Request) -> web.FileResponse:
    """The hall page; it reads its branch and zone from its own URL."""
    _branch(request)
    return web.FileResponse(PAGE_DIR / "display.html", headers={"Cache-Control": "no-cache"})


async def screen_json(request: web.Request) -> web.Response:
    """The same snapshot a screen gets first, as plain JSON."""
    branch_id = _branch(request)
    target = parse_target(f"/ws/{branch_id}?{request.query_string}")
    if target is None:
        return problem(400, "Bad Request", "zone must be 1-64 letters, digits, '.', '_', ':' or '-'")
    if not request.app[BOARD].ready:
        return unavailable("the hall state is being rebuilt; retry")
    if await request.app[BOARD].exists(branch_id) is False:
        return problem(404, "Not Found", f"there is no branch {branch_id!r}")
    return web.Response(
        text=json.dumps(request.app[BOARD].snapshot(*target), ensure_ascii=False),
        content_type="application/json",
    )


async def audio_file(request: web.Request) -> web.StreamResponse:
    """A registered announcement as WAV, synthesized once and cached."""
    try:
        path = await request.app[BOARD].audio.wav(request.match_info["audio_id"])
    except AudioError as exc:
        log.warning("speech synthesis failed: %s", exc)
        return unavailable("speech synthesis is unavailable")
    if path is None:
        return problem(404, "Not Found", "no such announcement")
    return web.FileResponse(
        path, headers={"Content-Type": "audio/wav", "Cache-Control": "public, max-age=86400, immutable"}
    )
