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
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.display import contract
from services.display.audio import AUDIO_ID_LENGTH, AudioStore
from services.display.consumer import EventConsumer
from services.display.directory import Directory
from services.display.errors import AudioError
from services.display.hall import Clock, Hall
from services.display.hub import Hub, parse_target
from services.display.metrics import DisplayMetrics
from services.display.settings import Settings

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).parent / "page"
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", DisplayMetrics)
HALL = web.AppKey("hall", Hall)
HUB = web.AppKey("hub", Hub)
CONSUMER = web.AppKey("consumer", EventConsumer)
DIRECTORY = web.AppKey("directory", Directory)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BRANCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def init_app(settings: Settings, *, clock: Clock = _utc_now) -> web.Application:
    """Build the display application (nothing starts until the app runs)."""
    metrics = DisplayMetrics()
    app = web.Application(middlewares=[_observe(metrics)])
    directory = Directory(settings.ticketing_url, settings.default_timezone, settings.directory_ttl_seconds)
    hall = Hall(directory, AudioStore(settings.audio_cache, settings.espeak), clock)
    hub = Hub(
        hall.snapshot,
        metrics,
        ready=lambda: hall.ready,
        exists=hall.exists,
        buffer_limit=settings.client_buffer_bytes,
        heartbeat_seconds=settings.ping_interval_seconds,
    )
    directory.listeners.append(lambda branch_id: hub.resync(branch_id) if hall.ready else None)
    app[SETTINGS], app[METRICS], app[HALL], app[HUB] = settings, metrics, hall, hub
    app[DIRECTORY] = directory
    app[CONSUMER] = EventConsumer(settings, hall, hub, metrics)
    app.cleanup_ctx.append(_background_tasks)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/display/{branch_id}", display_page)
    app.router.add_get("/api/v1/branches/{branch_id}/screen", screen_json)
    app.router.add_get("/audio/{audio_id:[0-9a-f]{" + str(AUDIO_ID_LENGTH) + "}}.wav", audio_file)
    app.router.add_get("/ws/{branch_id}", websocket_elsewhere)
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
    hall, hub = app[HALL], app[HUB]
    while True:
        await asyncio.sleep(app[SETTINGS].ping_interval_seconds)
        for branch_id in hall.new_days():
            hub.resync(branch_id)
        hub.heartbeat()


def problem(status: int, title: str, detail: str, **extra: Any) -> web.Response:
    """An RFC 9457 problem details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return web.json_response(body, status=status, content_type="application/problem+json")


def _observe(metrics: DisplayMetrics) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            if status < 400:
                raise
            return problem(status, exc.reason, f"{request.method} {request.path}: {exc.reason}")
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            method = request.method if request.method in _METHODS else "OTHER"
            elapsed = time.perf_counter() - start
            metrics.http_duration.labels(method, route, str(status)).observe(elapsed)

    return middleware


async def healthz(request: web.Request) -> web.Response:
    """200 while the process is alive."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """200 when Kafka answers and today's state is rebuilt; else 503 naming what is not."""
    down = []
    if not request.app[HALL].ready:
        down.append("rebuild")
    if not await request.app[CONSUMER].healthy():
        down.append("kafka")
    if down:
        return problem(503, "Service Unavailable", f"not ready: {', '.join(down)}", down=down)
    return web.json_response({"status": "ready"})


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
    if not request.app[HALL].ready:
        return problem(503, "Service Unavailable", "the hall state is being rebuilt; retry")
    if await request.app[HALL].exists(branch_id) is False:
        return problem(404, "Not Found", f"there is no branch {branch_id!r}")
    return web.Response(
        text=json.dumps(request.app[HALL].snapshot(*target), ensure_ascii=False),
        content_type="application/json",
    )


async def audio_file(request: web.Request) -> web.StreamResponse:
    """A registered announcement as WAV, synthesized once and cached."""
    try:
        path = await request.app[HALL].audio.wav(request.match_info["audio_id"])
    except AudioError as exc:
        log.warning("speech synthesis failed: %s", exc)
        return problem(503, "Service Unavailable", "speech synthesis is unavailable")
    if path is None:
        return problem(404, "Not Found", "no such announcement")
    return web.FileResponse(
        path, headers={"Content-Type": "audio/wav", "Cache-Control": "public, max-age=86400, immutable"}
    )


async def websocket_elsewhere(request: web.Request) -> web.Response:
    """A websocket upgrade that arrived on a reused HTTP connection: ask for a fresh one."""
    response = problem(426, "Upgrade Required", "open the websocket on a new connection")
    response.headers["Connection"] = "close"
    return response
