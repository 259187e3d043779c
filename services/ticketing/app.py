"""The application factory: ``init_app(settings)`` wires the pool, the relay, the routes.

Resources open and close in ``cleanup_ctx`` generators: the PostgreSQL pool
(migrations applied and the first admin ensured on start-up), then the outbox
relay (unless ``TICKETING_RELAY=0``), then the housekeeping loop (unless
``TICKETING_HOUSEKEEPING=0``). aiohttp's runner handles SIGTERM: it stops
accepting, lets requests in flight finish, then runs these clean-ups in reverse:
housekeeping finishes its pass, the relay its batch, then the pool closes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import ClientSession, web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from services.platform import openapi
from services.platform.health import Check, add_health_routes
from services.platform.http import edge_middleware, http_latency, secure
from services.ticketing import (
    accounts_api,
    admin_api,
    api,
    booking_api,
    console_api,
    db,
    kiosk_api,
    limits,
    notify,
    pages,
    problems,
    sessions,
    supervisor_api,
)
from services.ticketing.errors import Unauthorized
from services.ticketing.housekeeping import Housekeeper
from services.ticketing.keys import CLOCK, LIMITS, POOL, REGISTRY, RELAY, SETTINGS, Clock
from services.ticketing.live import HUB, LiveHub
from services.ticketing.migrate import migrate
from services.ticketing.outbox import OutboxRelay
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
    policy = limits.policy_from(
        settings.limit_overrides(),
        enabled=settings.limits_enabled,
        trusted_proxies=settings.proxy_networks(),
        allowed_origins=settings.allowed_origins,
        kiosk_tokens=settings.kiosk_tokens,
    )
    app = web.Application(
        middlewares=[
            edge_middleware(http_latency(registry), problems.translate),
            limits.middleware(limits.Limiter(policy), _is_staff),
        ],
        client_max_size=MAX_BODY_BYTES,
    )
    app[LIMITS] = policy
    secure(app)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[REGISTRY] = registry
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_live)
    if settings.relay_enabled:
        app.cleanup_ctx.append(_relay)
    if settings.housekeeping_enabled:
        app.cleanup_ctx.append(_housekeeping)
    if settings.notify_enabled:
        app.cleanup_ctx.append(_notifications)
    booking_api.setup(app)
    add_health_routes(app, CHECKS)
    app.router.add_get("/metrics", metrics)
    api.add_routes(app)
    openapi.register(app, console_api.operations())
    openapi.register(app, [*accounts_api.operations(), *admin_api.operations(), *supervisor_api.operations()])
    pages.add_routes(app)
    openapi.register(app, kiosk_api.operations())
    return app


async def _is_staff(request: web.Request) -> bool:
    """Whether the request carries a valid staff token (staff issue on citizens' behalf, unthrottled)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        await sessions.authenticate(request.app[POOL], request.app[CLOCK](), token.strip())
    except Unauthorized:
        return False
    return True


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    conn = await db.connect(settings.database_url, settings.db_schema)
    try:
        applied = await migrate(conn, settings.db_schema)
        if applied:
            log.info("schema %s migrated: %s", settings.db_schema, ", ".join(applied))
        await sessions.ensure_admin(conn, settings.admin_password)
    finally:
        await conn.close()
    app[POOL] = await db.create_pool(
        settings.database_url, settings.db_schema, max_size=settings.db_pool_size
    )
    yield
    await app[POOL].close()


async def _live(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    hub = LiveHub(settings.database_url, settings.db_schema)
    hub.start()
    app[HUB] = hub

    async def end_streams(_app: web.Application) -> None:
        hub.end_streams()  # endless responses: the server would wait for them on SIGTERM

    app.on_shutdown.append(end_streams)
    yield
    await hub.stop()


async def _relay(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    relay = OutboxRelay(
        dsn=settings.database_url,
        schema=settings.db_schema,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.events_topic,
        registry=app[REGISTRY],
        kafka_options=settings.kafka_options(),
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
        window=console_api.return_window(app[SETTINGS]),
        audit_retention_days=app[SETTINGS].audit_retention_days,
    )
    housekeeper.start()
    yield
    await housekeeper.stop()


async def _notifications(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with ClientSession() as session:
        notifier: notify.Notifier = (
            notify.WebhookNotifier(session, str(settings.webhook_url), settings.webhook_secret)
            if settings.webhook_url
            else notify.LogNotifier()
        )
        dispatcher = notify.Dispatcher(
            app[POOL],
            app[CLOCK],
            notifier,
            interval=settings.notify_interval_seconds,
            max_attempts=settings.notify_max_attempts,
        )
        dispatcher.start()
        yield
        await dispatcher.stop()


async def _database_up(app: web.Application) -> bool:
    await app[POOL].fetchval("SELECT 1")
    return True


async def _kafka_up(app: web.Application) -> bool | None:
    relay = app.get(RELAY)
    return None if relay is None else relay.kafka_connected


# Kafka is reported but does not make ticketing unready: tickets wait in the outbox.
CHECKS = (Check("database", _database_up), Check("kafka", _kafka_up, required=False))


async def metrics(request: web.Request) -> web.Response:
    """The Prometheus exposition of this process."""
    body = generate_latest(request.app[REGISTRY])
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
