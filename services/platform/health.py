"""``/healthz`` (alive) and ``/readyz`` (ready to serve), built from named checks.

A check is a name and a probe of the running app that answers ``True`` (up),
``False`` (down) or ``None`` (disabled). A probe that raises a connection-level
error or takes longer than :data:`PROBE_TIMEOUT` counts as down. Only
*required* checks make the service unready; the others are reported (ticketing
keeps accepting tickets while Kafka is away, so Kafka is informational there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from services.platform.http import is_unavailable
from services.platform.problems import unavailable

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0
Probe = Callable[[web.Application], Awaitable[bool | None]]


@dataclass(frozen=True)
class Check:
    """One named readiness check."""

    name: str
    probe: Probe
    required: bool = True


async def _state(app: web.Application, check: Check) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            result = await check.probe(app)
    except TimeoutError:
        return "down"
    except Exception as exc:  # noqa: BLE001  (a probe's failure is an answer ("down"), never a 500)
        if not is_unavailable(exc):
            log.warning("readiness check %s failed: %r", check.name, exc)
        return "down"
    return "disabled" if result is None else ("up" if result else "down")


async def readiness(app: web.Application, checks: Sequence[Check]) -> tuple[dict[str, str], list[str]]:
    """Every check's state, and the names of the required ones that are down."""
    states = await asyncio.gather(*(_state(app, check) for check in checks))
    by_name = {check.name: state for check, state in zip(checks, states, strict=True)}
    down = [c.name for c in checks if c.required and by_name[c.name] == "down"]
    return by_name, down


def add_health_routes(app: web.Application, checks: Sequence[Check]) -> None:
    """Register ``GET /healthz`` and ``GET /readyz`` on ``app``."""

    async def healthz(request: web.Request) -> web.Response:
        """Alive: the process answers."""
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        """200 when every required check is up; 503 (with ``Retry-After``) naming those down."""
        states, down = await readiness(request.app, checks)
        if down:
            return unavailable(f"not ready: {', '.join(down)} down", checks=states, down=down)
        return web.json_response({"status": "ready", "checks": states, "down": []})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
