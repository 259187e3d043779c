"""The aiohttp application factory of the metrics service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.metrics import api, keys
from services.metrics.consumer import EventConsumer
from services.metrics.errors import BrokerUnavailable, StoreError, UnstorableData
from services.metrics.exporter import build_registry
from services.metrics.settings import Settings
from services.metrics.store import MetricsStore, open_pool
from services.metrics.zones import BranchZones
from services.platform.health import Check, add_health_routes
from services.platform.http import edge_middleware, secure
from services.platform.problems import unavailable

logger = logging.getLogger(__name__)

KAFKA_CHECK_TIMEOUT = 3.0
STUCK_AFTER = 30.0  # seconds of failed consuming after which the service says it is not ready
PURGE_INTERVAL = 3600.0  # seconds between purges of old processed marks (the first after one interval)


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def init_app(settings: Settings, clock: Callable[[], datetime] = utc_now) -> web.Application:
    """Build the metrics application; resources open in ``cleanup_ctx`` when it starts."""
    zones = BranchZones(settings.default_timezone)
    process = build_registry(clock, zones.cached)
    app = web.Application(middlewares=[edge_middleware(process.http_duration, _translate)])
    secure(app)
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock
    app[keys.ZONES] = zones
    app[keys.PROCESS_METRICS] = process
    app.cleanup_ctx.extend([_database, _kafka, _housekeeping])
    add_health_routes(app, CHECKS)
    api.add_routes(app)
    return app


def _translate(exc: Exception) -> web.StreamResponse | None:
    """A store that cannot answer is a 503 (with ``Retry-After``); a value it refuses is not."""
    if isinstance(exc, StoreError) and not isinstance(exc, UnstorableData):
        logger.warning("database unavailable: %s", exc)
        return unavailable("the metrics database does not answer")
    return None


async def _database_up(app: web.Application) -> bool:
    await app[keys.STORE].ping()
    return True


async def _kafka_up(app: web.Application) -> bool:
    return await app[keys.KAFKA_CHECK]()


async def _consumer_advancing(app: web.Application) -> bool:
    """Down while a partition is stuck: the consume loop has failed for STUCK_AFTER seconds."""
    return app[keys.CONSUMER].stuck_seconds() < STUCK_AFTER


CHECKS = (
    Check("database", _database_up),
    Check("kafka", _kafka_up),
    Check("consumer", _consumer_advancing),
)


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    pool = await open_pool(settings.database_url, settings.db_schema)
    store = MetricsStore(pool)
    app[keys.STORE] = store
    logger.info("database ready (schema %s)", settings.db_schema)
    yield
    await store.close()


async def purge_once(app: web.Application) -> int:
    """Forget processed marks older than the retention; return how many were removed."""
    settings = app[keys.SETTINGS]
    before = app[keys.CLOCK]() - timedelta(days=settings.processed_retention_days)
    removed = await app[keys.STORE].purge_processed(before)
    if removed:
        logger.info("forgot %d processed marks of events before %s", removed, before.isoformat())
    return removed


async def _purge_forever(app: web.Application) -> None:
    while True:
        await asyncio.sleep(PURGE_INTERVAL)
        try:
            await purge_once(app)
        except StoreError as exc:
            logger.warning("purging old processed marks failed, will retry: %s", exc)


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_purge_forever(app), name="metrics-housekeeping")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _kafka_check(task: asyncio.Task[None], producer: AIOKafkaProducer) -> Callable[[], Awaitable[bool]]:
    """Ready while the consume loop runs and the broker answers a metadata request in time."""

    async def kafka_ready() -> bool:
        if task.done():
            return False
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), KAFKA_CHECK_TIMEOUT)
        except (KafkaError, TimeoutError, OSError):
            return False
        return True

    return kafka_ready


async def _kafka(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="antrian-metrics-dlq",
        acks="all",
        **settings.kafka_options(),
    )
    consumer = AIOKafkaConsumer(
        settings.events_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.consumer_group,
        client_id="antrian-metrics",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **settings.kafka_options(),
    )
    try:
        await producer.start()
        await consumer.start()
    except KafkaError as exc:
        await producer.stop()
        raise BrokerUnavailable(f"Kafka at {settings.kafka_bootstrap_servers} unreachable: {exc}") from exc
    worker = EventConsumer(
        consumer,
        producer,
        app[keys.STORE],
        app[keys.ZONES],
        app[keys.PROCESS_METRICS],
        settings.dlq_topic,
        app[keys.CLOCK],
    )
    app[keys.CONSUMER] = worker
    task = asyncio.create_task(
        worker.run(settings.kafka_bootstrap_servers, settings.kafka_options()), name="metrics-consumer"
    )
    app[keys.KAFKA_CHECK] = _kafka_check(task, producer)
    logger.info("consuming %s as group %s", settings.events_topic, settings.consumer_group)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await consumer.stop()
    await producer.stop()
