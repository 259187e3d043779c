"""The application factory: ``init_app(settings)`` wires the pool, the relay, the routes.

Resources open and close in ``cleanup_ctx`` generators: the PostgreSQL pool
(migrations applied and the first admin ensured on start-up), then the outbox
relay (unless ``TICKETING_RELAY=0``), then the housekeeping loop (unless
``TICKETING_HOUSEKEEPING=0``). aiohttp's runner handles SIGTERM: it stops
accepting, lets requests in flight finish, then runs these clean-ups in reverse:
housekeeping finishes its pass, the relay its batch, then the pool closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from services.ticketing import api, db, pages, problems
from services.ticketing.housekeeping import Housekeeper
from services.ticketing.keys import CLOCK, POOL, REGISTRY, RELAY, SETTINGS, Clock
from services.ticketing.migrate import migrate
from services.ticketing.outbox import OutboxRelay
from services.ticketing.sessions import ensure_admin
from services.ticketing.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def init_app(settings: Settings, *, clock: Clock = utc_now) -> web.Application:
    """Build the ticketing application."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    registry.register(GC_COLLECTOR)
    app = web.Application(
        middlewares=[problems.middleware(problems.http_latency(registry))], client_max_size=MAX_BODY_BYTES
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[REGISTRY] = registry
    app.cleanup_ctx.append(_database)
    if settings.relay_enabled:
        app.cleanup_ctx.append(_relay)
    if settings.housekeeping_enabled:
        app.cleanup_ctx.append(_housekeeping)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    api.add_routes(app)
    pages.add_routes(app)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    conn = await db.connect(settings.database_url, settings.db_schema)
    try:
        applied = await migrate(conn, settings.db_schema)
        if applied:
            log.info("schema %s migrated: %s", settings.db_schema, ", ".join(applied))
        await ensure_admin(conn, settings.admin_password)
    finally:
        await conn.close()
    app[POOL] = await db.create_pool(
        settings.database_url, settings.db_schema, max_size=settings.db_pool_size
    )
    yield
    await app[POOL].close()


async def _relay(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    relay = OutboxRelay(
        dsn=settings.database_url,
        schema=settings.db_schema,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.events_topic,
        registry=app[REGISTRY],
    )
    await relay.start()
    app[RELAY] = relay
    yield
    await relay.stop()


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    housekeeper = Housekeeper(
        app[POOL],
        app[CLOCK],
        interval=app[SETTINGS].housekeeping_interval_seconds,
        registry=app[REGISTRY],
    )
    housekeeper.start()
    yield
    await housekeeper.stop()


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when PostgreSQL answers; Kafka's state is reported but does not make it unready."""
    relay = request.app.get(RELAY)
    kafka = "disabled" if relay is None else ("up" if relay.kafka_connected else "down")
    try:
        async with asyncio.timeout(2):
            await request.app[POOL].fetchval("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("not ready: database does not answer: %r", exc)
        return problems.problem(
            503,
            "Not ready",
            "database is down",
            slug="not-ready",
            checks={"database": "down", "kafka": kafka},
        )
    return web.json_response({"status": "ready", "database": "up", "kafka": kafka})


async def metrics(request: web.Request) -> web.Response:
    """The Prometheus exposition of this process."""
    body = generate_latest(request.app[REGISTRY])
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
