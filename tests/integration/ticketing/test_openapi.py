"""The generated OpenAPI document covers every route, request body and response of ticketing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web

from tests.contract import served_routes
from tests.integration.ticketing.conftest import TicketingHallKit, admin_auth

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

JSON = {"Content-Type": "application/json"}


async def openapi(hall: TicketingHallKit) -> dict[str, Any]:
    resp = await hall.client.get("/openapi.json")
    assert resp.status == 200
    return dict(await resp.json())


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method.upper(), op) for path, ops in doc["paths"].items() for method, op in ops.items()]


async def test_every_route_is_documented_and_every_documented_route_exists(hall: TicketingHallKit) -> None:
    doc = await openapi(hall)
    assert doc["openapi"] == "3.1.0"
    documented = {(path, method) for path, method, _ in operations(doc)}
    served = served_routes(hall.client.app)
    assert served - documented == set(), "undocumented routes"
    assert documented - served == set(), "documented routes that do not exist"


async def test_every_operation_documents_its_parameters_and_responses(hall: TicketingHallKit) -> None:
    doc = await openapi(hall)
    for path, method, op in operations(doc):
        where = f"{method} {path}"
        assert op["summary"], where
        assert any(code.startswith("2") for code in op["responses"]), f"{where}: no success response"
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), f"{where}: path parameters"
        for code, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                if "json" in media:
                    assert "$ref" in content.get("schema", {}), f"{where} {code}: {media} without a schema"
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= set(op["responses"]), f"{where}: body problems"
        if path.startswith("/api/") and method == "POST":
            assert "415" in op["responses"], f"{where}: a foreign media type is refused"
        if op.get("security"):
            assert {"401", "403"} <= set(op["responses"]), where


async def test_the_login_response_schema_has_what_login_returns(hall: TicketingHallKit) -> None:
    doc = await openapi(hall)
    ref = doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["200"]["content"]["application/json"]
    token = doc["components"]["schemas"][ref["schema"]["$ref"].rsplit("/", 1)[1]]
    expected = {"token", "token_type", "expires_at", "username", "role", "counter_ids", "branch_id"}
    assert set(token["properties"]) == set(token["required"]) == expected
    auth = await admin_auth(hall.client)  # the client checks the real answer against this schema
    assert auth["Authorization"].startswith("Bearer ")


async def test_an_operation_reads_a_body_exactly_when_it_documents_one(hall: TicketingHallKit) -> None:
    """A JSON array is refused (400) by every operation that reads a body, and ignored by the others."""
    doc = await openapi(hall)
    auth = await admin_auth(hall.client)
    ticket = await (await hall.issue()).json()
    values = {
        "branch_id": hall.branch,
        "counter_id": hall.counter(1),
        "ticket_id": ticket["id"],
        "code": "ABCDEFGH",
    }
    posts = [(path, op) for path, method, op in operations(doc) if method == "POST"]
    posts.sort(key=lambda p: p[0] == "/api/v1/auth/logout")  # it ends the session the others use
    assert len(posts) >= 10
    for path, op in posts:
        url = path.format(**values)
        resp = await hall.client.post(url, data=b"[1]", headers={**JSON, **auth})
        if "requestBody" in op:
            assert resp.status == 400, f"POST {path} ignored its body"
        else:
            assert resp.status != 400, f"POST {path} reads a body it does not document"


async def test_a_route_missing_from_the_document_fails_the_check(hall: TicketingHallKit) -> None:
    """The router comparison can fail: a route added without documentation is found."""

    async def hidden(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_get("/hidden", hidden)
    doc = await openapi(hall)
    documented = {(path, method) for path, method, _ in operations(doc)}
    assert ("/hidden", "GET") in served_routes(app) - documented
