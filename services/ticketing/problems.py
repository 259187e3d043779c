"""RFC 9457 problem details and the middleware that guarantees them.

Every error leaves as ``application/problem+json``: the service's own errors
with their status, aiohttp's HTTP errors (404 route, 405, 413) with theirs, a
lost database as 503. The same middleware times every request into
``qms_http_request_duration_seconds`` labelled with the route *pattern*.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry, Histogram

from services.ticketing.errors import TicketingError

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "urn:antrian:problem:"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, title: str, detail: str, *, slug: str = "about:blank", **extra: Any) -> web.Response:
    """A problem details response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug != "about:blank" else slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return web.Response(
        status=status, text=json.dumps(body, ensure_ascii=False), content_type=PROBLEM_TYPE, charset="utf-8"
    )


def from_error(exc: TicketingError) -> web.Response:
    """The problem response for one of the service's errors."""
    return problem(exc.status, exc.title, exc.detail, slug=exc.type_slug, **exc.extensions())


def http_latency(registry: CollectorRegistry) -> Histogram:
    """The ``qms_http_request_duration_seconds`` histogram in ``registry``."""
    return Histogram(
        "qms_http_request_duration_seconds",
        "HTTP request latency by route pattern",
        ["method", "route", "status"],
        registry=registry,
    )


def route_pattern(request: web.Request) -> str:
    """The matched route's pattern (never the raw path, which holds ids)."""
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else "unmatched"


def middleware(latency: Histogram) -> Middleware:
    """Problem details for every error, and request timing."""

    @web.middleware
    async def problems_and_timing(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response: web.StreamResponse
        try:
            response = await handler(request)
        except TicketingError as exc:
            response = from_error(exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = problem(exc.status, exc.reason, exc.text or exc.reason)
            for name in ("Allow",):
                if name in exc.headers:
                    response.headers[name] = exc.headers[name]
        except asyncpg.DataError as exc:  # a value PostgreSQL cannot store; the edge should catch it first
            log.warning("%s %s: value refused by the database: %s", request.method, request.path, exc)
            response = problem(422, "Invalid request", "a value in the request is not acceptable")
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            log.warning("%s %s: database unavailable: %r", request.method, request.path, exc)
            response = problem(503, "Service unavailable", "the database does not answer; try again shortly")
        except Exception:  # the outermost edge of a request: log it, answer with a problem
            log.exception("%s %s failed", request.method, request.path)
            response = problem(500, "Internal error", "an unexpected error occurred; it was logged")
        if response.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="antrian"'
        latency.labels(request.method, route_pattern(request), str(response.status)).observe(
            time.perf_counter() - started
        )
        return response

    return problems_and_timing
