"""The aiohttp application factory of the metrics service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.metrics import api, keys
from services.metrics.consumer import EventConsumer
from services.metrics.errors import BrokerUnavailable, StoreError
from services.metrics.exporter import build_registry
from services.metrics.http import edge_middleware
from services.metrics.settings import Settings
from services.metrics.store import MetricsStore, open_pool
from services.metrics.zones import BranchZones

logger = logging.getLogger(__name__)

KAFKA_CHECK_TIMEOUT = 3.0
PURGE_INTERVAL = 3600.0  # seconds between purges of old processed marks (the first after one interval)


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def init_app(settings: Settings, clock: Callable[[], datetime] = utc_now) -> web.Application:
    """Build the metrics application; resources open in ``cleanup_ctx`` when it starts."""
    zones = BranchZones(None, settings.ticketing_url, settings.default_timezone)
    process = build_registry(clock, zones.cached)
    app = web.Application(middlewares=[edge_middleware(process.http_duration)])
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock
    app[keys.ZONES] = zones
    app[keys.PROCESS_METRICS] = process
    app.cleanup_ctx.extend([_database, _http_client, _kafka, _housekeeping])
    api.add_routes(app)
    return app


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


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[keys.ZONES].session = session
        yield
        app[keys.ZONES].session = None


async def _kafka(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, client_id="antrian-metrics-dlq", acks="all"
    )
    consumer = AIOKafkaConsumer(
        settings.events_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.consumer_group,
        client_id="antrian-metrics",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise BrokerUnavailable(f"Kafka at {settings.kafka_bootstrap_servers} unreachable: {exc}") from exc
    try:
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
    task = asyncio.create_task(worker.run(), name="metrics-consumer")

    async def kafka_ready() -> bool:
        if task.done():
            return False
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), KAFKA_CHECK_TIMEOUT)
        except (KafkaError, TimeoutError, OSError):
            return False
        return True

    app[keys.KAFKA_CHECK] = kafka_ready
    logger.info("consuming %s as group %s", settings.events_topic, settings.consumer_group)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await consumer.stop()
    await producer.stop()
