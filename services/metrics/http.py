"""HTTP edge helpers: RFC 9457 problem details and the request middleware."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import Histogram

from services.metrics.errors import StoreError

logger = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, title: str, detail: str | None = None, **extra: object) -> web.Response:
    """An RFC 9457 problem details response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM_TYPE)


def route_of(request: web.Request) -> str:
    """The matched route's pattern (never the raw path), or ``unmatched``."""
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else "unmatched"


def edge_middleware(duration: Histogram) -> Middleware:
    """Turn every failure into problem details and time each request by route pattern."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = problem(exc.status, exc.reason)
        except StoreError as exc:
            logger.warning("%s %s: %s", request.method, request.path, exc)
            response = problem(503, "Service Unavailable", "the metrics database does not answer")
        except Exception:  # the outermost edge: log with context, answer a problem, go on
            logger.exception("unhandled error on %s %s", request.method, request.path)
            response = problem(500, "Internal Server Error")
        elapsed = time.perf_counter() - started
        duration.labels(method=request.method, route=route_of(request), status=str(response.status)).observe(
            elapsed
        )
        return response

    return middleware
