"""The HTTP edge every service shares: one error middleware, request timing, security headers.

:func:`edge_middleware` turns every failure into a problem document:
aiohttp's own HTTP errors keep their status, a lost database (any
connection-level error class, see :func:`is_unavailable`) becomes 503 with
``Retry-After``, a service's domain errors go through the ``translate``
callback it passes, and anything else is logged and answered 500.

:func:`secure` adds the security headers to every response of an app and
replaces the ``Server`` header, which otherwise names library versions.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry, Histogram

from services.platform.logs import bind
from services.platform.problems import RETRY_AFTER_SECONDS, problem, unavailable

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Translate = Callable[[Exception], web.StreamResponse | None]

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Every way a database connection fails rather than a statement: the server is
# starting, shutting down or crashed (class 57P: CannotConnectNow, AdminShutdown,
# CrashShutdown), a connection is lost or refused (class 08, InterfaceError,
# OSError), too many connections (53300), or the pool could not hand one out in
# time (TimeoutError). asyncpg's InternalClientError ("cannot switch to state
# 12; another operation is in progress") is what a connection that broke in the
# middle of a query raises next (seen when PostgreSQL restarts under load).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) means "the database is not there now"."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UNAVAILABLE_ERRORS):
            return True
        seen = seen.__cause__
    return False


def http_latency(registry: CollectorRegistry) -> Histogram:
    """The ``qms_http_request_duration_seconds`` histogram in ``registry``."""
    return Histogram(
        "qms_http_request_duration_seconds",
        "HTTP request latency by route pattern",
        ["method", "route", "status"],
        buckets=HTTP_BUCKETS,
        registry=registry,
    )


def route_pattern(request: web.Request) -> str:
    """The matched route's pattern (never the raw path, which holds ids), or ``unmatched``."""
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else "unmatched"


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    response = problem(exc.status, exc.reason, exc.text or exc.reason)
    for name in ("Allow", "Retry-After"):
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


async def _answer(request: web.Request, handler: Handler, translate: Translate | None) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the outermost edge of a request: map it, or log it and answer 500
        translated = translate(exc) if translate is not None else None
        if translated is not None:
            return translated
        if is_unavailable(exc):
            log.warning("%s %s: database unavailable: %r", request.method, request.path, exc)
            return unavailable("the database does not answer; try again shortly")
        log.exception("%s %s failed", request.method, request.path)
        return problem(500, "Internal Server Error", "an unexpected error occurred; it was logged")


def edge_middleware(latency: Histogram, translate: Translate | None = None) -> Middleware:
    """Problem details for every error, request timing, and the request's context bound to its logs.

    The request id (``X-Request-Id`` or a new one) and the branch, ticket and
    counter named by the route appear in every line logged while it is handled.
    """

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        info = request.match_info
        with bind(
            request_id=request_id,
            branch=info.get("branch_id"),
            ticket=info.get("ticket_id"),
            counter=info.get("counter_id"),
        ):
            response = await _answer(request, handler, translate)
        method = request.method if request.method in _METHODS else "OTHER"
        latency.labels(method, route_pattern(request), str(response.status)).observe(
            time.perf_counter() - started
        )
        return response

    return edge


SERVER_NAME = "antrian"


def content_security_policy(frame_ancestors: Sequence[str] = ()) -> str:
    """A strict CSP: same-origin scripts, styles and connections only, no inline code, no framing."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors {ancestors}"
    )


def security_headers(frame_ancestors: Sequence[str] = ()) -> dict[str, str]:
    """The headers every response carries."""
    return {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "SAMEORIGIN" if frame_ancestors else "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def secure(app: web.Application, *, framable: Callable[[web.Request], Sequence[str]] | None = None) -> None:
    """Add the security headers (and a version-less ``Server``) to every response of ``app``.

    ``framable(request)`` names the origins that may frame that response (none by
    default): the display passes its configured ancestors for the hall page only.
    A 503 without ``Retry-After`` gets one here, whoever built it.
    """

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        ancestors = framable(request) if framable is not None else ()
        for name, value in security_headers(ancestors).items():
            response.headers.setdefault(name, value)
        response.headers["Server"] = SERVER_NAME
        if response.status == 503 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)

    app.on_response_prepare.append(on_prepare)
