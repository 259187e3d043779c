"""Typed keys of the application's state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from services.metrics.consumer import EventConsumer
from services.metrics.exporter import ProcessMetrics
from services.metrics.settings import Settings
from services.metrics.store import MetricsStore
from services.metrics.zones import BranchZones

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
STORE = web.AppKey("store", MetricsStore)
ZONES = web.AppKey("zones", BranchZones)
PROCESS_METRICS = web.AppKey("process_metrics", ProcessMetrics)
CONSUMER = web.AppKey("consumer", EventConsumer)
KAFKA_CHECK: web.AppKey[Callable[[], Awaitable[bool]]] = web.AppKey("kafka_check")
