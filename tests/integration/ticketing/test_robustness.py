"""No input produces a 500; readiness names the database when it is gone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ticketing.keys import POOL
from tests.integration.ticketing.conftest import TicketingHallKit

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["service_id", "channel", "priority", "priority_group", "scores", "ticket_id", "username"]
)
BODIES = st.one_of(
    st.binary(max_size=64),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(KEYS, JSON, max_size=4).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, target=st.integers(0, 5))
async def test_no_body_produces_a_500(hall: TicketingHallKit, body: bytes, target: int) -> None:
    token = await hall.token("admin")
    paths: list[tuple[str, dict[str, str]]] = [
        (f"/api/v1/branches/{hall.branch}/tickets", {}),
        ("/api/v1/auth/login", {}),
        ("/api/v1/tickets/00000000-0000-0000-0000-000000000000/survey", {}),
        (f"/api/v1/counters/{hall.counter(1)}/call-next", {"Authorization": f"Bearer {token}"}),
        (f"/api/v1/counters/{hall.counter(1)}/transfer", {"Authorization": f"Bearer {token}"}),
        (f"/api/v1/branches/{hall.branch}/tickets", {"Idempotency-Key": "fuzz"}),
    ]
    path, headers = paths[target]
    resp = await hall.client.post(path, data=body, headers={**headers, "Content-Type": "application/json"})
    assert resp.status < 500, await resp.text()
    if resp.status >= 400:
        assert resp.content_type == "application/problem+json"


async def test_readyz_names_the_database_when_it_is_gone(hall: TicketingHallKit) -> None:
    await hall.client.app[POOL].close()
    resp = await hall.client.get("/readyz")
    assert resp.status == 503
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    assert body["checks"]["database"] == "down"
    assert "database" in body["detail"]


async def test_nul_characters_and_odd_ids_are_refused_cleanly(hall: TicketingHallKit) -> None:
    token = await hall.token("admin")
    auth = {"Authorization": f"Bearer {token}"}
    cases = [
        ("POST", f"/api/v1/branches/{hall.branch}/tickets", {"service_id": "a\x00b"}, {}, 422),
        ("POST", "/api/v1/auth/login", {"username": "a\x00", "password": "x"}, {}, 422),
        ("GET", "/api/v1/branches/a%00b", None, {}, 404),
        ("GET", "/api/v1/branches/a%00b/queue", None, {}, 404),
        ("GET", "/api/v1/counters/a%00b", None, {}, 404),
        ("POST", "/api/v1/counters/a%00b/open", None, auth, 404),
        ("POST", "/api/v1/branches/%E2%9C%93/tickets", {"service_id": "x"}, {}, 404),
        ("POST", f"/api/v1/counters/{hall.counter(1)}/transfer", {"service_id": "\x00"}, auth, 422),
    ]
    deep = b"[" * 60_000
    json_type = {"Content-Type": "application/json"}
    resp = await hall.client.post(f"/api/v1/branches/{hall.branch}/tickets", data=deep, headers=json_type)
    assert resp.status == 400
    for method, path, body, headers, status in cases:
        resp = await hall.client.request(method, path, json=body, headers=headers)
        assert resp.status == status, (path, await resp.text())
        assert resp.content_type == "application/problem+json"
    resp = await hall.client.post(f"/api/v1/counters/{hall.counter(1)}/open")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
