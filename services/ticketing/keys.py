"""Typed application keys shared by the app factory and the handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg
from aiohttp import web
from prometheus_client import CollectorRegistry

from services.ticketing.limits import EdgePolicy
from services.ticketing.outbox import OutboxRelay
from services.ticketing.settings import Settings

Clock = Callable[[], datetime]

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
POOL = web.AppKey("pool", asyncpg.Pool)
REGISTRY = web.AppKey("registry", CollectorRegistry)
RELAY = web.AppKey("relay", OutboxRelay)
LIMITS = web.AppKey("limits", EdgePolicy)
