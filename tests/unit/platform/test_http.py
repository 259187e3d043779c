"""The shared HTTP edge: problem documents, database faults as 503 with Retry-After, security headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from services.platform.health import Check, add_health_routes
from services.platform.http import edge_middleware, http_latency, is_unavailable, secure
from services.platform.logs import context

CONNECTION_ERRORS: list[Callable[[], BaseException]] = [
    lambda: asyncpg.CannotConnectNowError("the database system is starting up"),
    lambda: asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    lambda: asyncpg.exceptions.CrashShutdownError("terminating connection due to crash of another process"),
    lambda: asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    lambda: asyncpg.exceptions.ConnectionFailureError("connection failure"),
    lambda: asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    lambda: asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released"),
    lambda: asyncpg.exceptions.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    ),
    lambda: ConnectionRefusedError(111, "Connection refused"),
    lambda: TimeoutError(),  # the pool could not hand out a connection in time
]


def _app(error: Callable[[], BaseException] | None = None, *, framable: bool = False) -> web.Application:
    app = web.Application(middlewares=[edge_middleware(http_latency(CollectorRegistry()))])
    secure(app, framable=(lambda request: ("https://signage.example",)) if framable else None)

    async def page(request: web.Request) -> web.Response:
        if error is not None:
            raise error()
        return web.Response(text="<h1>ok</h1>", content_type="text/html")

    async def database_down(app: web.Application) -> bool:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    async def fine(app: web.Application) -> bool:
        return True

    app.router.add_get("/page", page)
    add_health_routes(app, [Check("database", database_down), Check("kafka", fine, required=False)])
    return app


async def _get(app: web.Application, path: str) -> tuple[int, Any, dict[str, str]]:
    async with TestClient(TestServer(app)) as client:
        response = await client.get(path)
        body = await response.json() if response.content_type.endswith("json") else await response.text()
        return response.status, body, dict(response.headers)


@pytest.mark.parametrize("error", CONNECTION_ERRORS)
async def test_every_connection_level_database_error_is_503_with_retry_after(
    error: Callable[[], BaseException],
) -> None:
    assert is_unavailable(error())
    status, body, headers = await _get(_app(error), "/page")
    assert status == 503
    assert int(headers["Retry-After"]) > 0
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["status"] == 503


async def test_a_bug_is_a_500_problem_and_a_statement_error_is_not_a_503() -> None:
    assert not is_unavailable(asyncpg.UniqueViolationError("duplicate key"))
    status, body, _ = await _get(_app(lambda: KeyError("bug")), "/page")
    assert (status, body["title"]) == (500, "Internal Server Error")


async def test_readiness_names_what_is_down_with_retry_after() -> None:
    status, body, headers = await _get(_app(), "/readyz")
    assert status == 503
    assert headers["Retry-After"]
    assert body["down"] == ["database"]
    assert body["checks"] == {"database": "down", "kafka": "up"}


@pytest.mark.parametrize("path", ["/page", "/no/such/page", "/readyz", "/healthz"])
async def test_every_response_carries_the_security_headers(path: str) -> None:
    _, _, headers = await _get(_app(), path)
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Server"] == "antrian"  # no library or Python version


async def test_a_framable_response_names_its_ancestors() -> None:
    _, _, headers = await _get(_app(framable=True), "/page")
    assert "frame-ancestors https://signage.example" in headers["Content-Security-Policy"]


async def test_a_request_binds_its_id_and_route_ids_to_every_log_line() -> None:
    seen: list[dict[str, str]] = []
    app = web.Application(middlewares=[edge_middleware(http_latency(CollectorRegistry()))])

    async def handler(request: web.Request) -> web.Response:
        seen.append(context())
        return web.Response(text="ok")

    app.router.add_get("/branches/{branch_id}/counters/{counter_id}", handler)
    async with TestClient(TestServer(app)) as client:
        await client.get("/branches/bjb/counters/c1", headers={"X-Request-Id": "req-7"})
    assert seen == [{"request_id": "req-7", "branch": "bjb", "counter": "c1"}]
    assert context() == {}
