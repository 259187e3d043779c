"""Fixtures for ticketing's service and integration tests: a real app on a fresh schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.ticketing import db
from services.ticketing.app import init_app
from services.ticketing.domain.hall import parse_hall
from services.ticketing.migrate import migrate
from services.ticketing.seed import seed_hall
from services.ticketing.sessions import ensure_admin
from services.ticketing.settings import Settings
from tests.conftest import SchemaFactory
from tests.contract import Contract, ContractHolder

ADMIN_PASSWORD = "admin-test-password"
OPERATOR_PASSWORD = "operator-test-password"
ALL_DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")


class Clock:
    """A clock the test moves; starts at the real time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def hall_doc(
    branch: str, *, timezone: str = "Asia/Makassar", hours: Any = None, **branch_extra: Any
) -> dict[str, Any]:
    """A small hall: two agencies, three services, three counters, one operator per counter."""
    return {
        "branch": {
            "id": branch,
            "name": f"Test hall {branch}",
            "timezone": timezone,
            "hours": hours or ALL_DAY,
            "calling": {"max_priority_streak": 2, "no_show_min_recalls": 1, "no_show_min_seconds": 60},
            **branch_extra,
        },
        "agencies": [
            {
                "id": f"{branch}-dukcapil",
                "name": "Disdukcapil",
                "services": [
                    {
                        "id": f"{branch}-ktp",
                        "name": "KTP-el",
                        "prefix": "A",
                        "quota": 999,
                        "service_minutes": 5,
                    },
                    {
                        "id": f"{branch}-kk",
                        "name": "Kartu Keluarga",
                        "prefix": "B",
                        "quota": 3,
                        "service_minutes": 5,
                    },
                ],
            },
            {
                "id": f"{branch}-samsat",
                "name": "Samsat",
                "services": [{"id": f"{branch}-pkb", "name": "Pajak", "prefix": "C", "quota": 999}],
            },
        ],
        "counters": [
            {
                "id": f"{branch}-loket-1",
                "name": "Loket 1",
                "zone": "lantai-1",
                "services": [f"{branch}-ktp", f"{branch}-kk"],
            },
            {
                "id": f"{branch}-loket-2",
                "name": "Loket 2",
                "zone": "lantai-1",
                "services": [f"{branch}-kk", f"{branch}-ktp"],
            },
            {"id": f"{branch}-loket-3", "name": "Loket 3", "zone": "lantai-2", "services": [f"{branch}-pkb"]},
        ],
        "users": [
            {
                "username": f"{branch}-op{i}",
                "counters": [f"{branch}-loket-{i}"],
                "password_env": "TEST_OPERATOR_PASSWORD",
            }
            for i in (1, 2, 3)
        ],
    }


def new_branch_id() -> str:
    """A branch id no other test uses."""
    return "t" + uuid.uuid4().hex[:10]


@dataclass
class TicketingHallKit:
    """A running ticketing app with a seeded test hall."""

    client: TestClient[Any, Any]
    clock: Clock
    branch: str
    schema: str
    tokens: dict[str, str] = field(default_factory=dict)

    def counter(self, n: int) -> str:
        return f"{self.branch}-loket-{n}"

    def service(self, name: str) -> str:
        return f"{self.branch}-{name}"

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            password = ADMIN_PASSWORD if username == "admin" else OPERATOR_PASSWORD
            resp = await self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            assert resp.status == 200, await resp.text()
            self.tokens[username] = (await resp.json())["token"]
        return self.tokens[username]

    async def act(self, n: int, action: str, *, user: str | None = None, json: Any = None) -> Any:
        token = await self.token(user or f"{self.branch}-op{n}")
        return await self.client.post(
            f"/api/v1/counters/{self.counter(n)}/{action}",
            json=json,
            headers={"Authorization": f"Bearer {token}"},
        )

    async def issue(self, service: str = "ktp", **body: Any) -> Any:
        return await self.client.post(
            f"/api/v1/branches/{self.branch}/tickets", json={"service_id": self.service(service), **body}
        )


def settings_for(database_url: str, schema: str, **overrides: Any) -> Settings:
    """Settings of a test app: its own schema, no relay and no housekeeping unless asked."""
    base = {
        "database_url": database_url,
        "db_schema": schema,
        "admin_password": ADMIN_PASSWORD,
        "relay_enabled": False,
        "housekeeping_enabled": False,
        "port": 0,
        "rate_limits": ("off",),  # tests/faults/test_abuse_limits.py turns them on
    }
    return Settings(**{**base, **overrides})


async def admin_auth(client: TestClient[Any, Any]) -> dict[str, str]:
    """The Authorization header of the first admin, logged in through ``client``."""
    login = await client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert login.status == 200, await login.text()
    return {"Authorization": f"Bearer {(await login.json())['token']}"}


async def issue_and_serve_half(
    client: TestClient[Any, Any], branch: str, auth: dict[str, str], tickets: int
) -> None:
    """Issue ``tickets`` KTP-el tickets, then call, start and complete half of them at loket-1."""
    counter = f"/api/v1/counters/{branch}-loket-1"
    for _ in range(tickets):
        resp = await client.post(f"/api/v1/branches/{branch}/tickets", json={"service_id": f"{branch}-ktp"})
        assert resp.status == 201, await resp.text()
    for _ in range(tickets // 2):
        for action in ("call-next", "start", "complete"):
            resp = await client.post(f"{counter}/{action}", headers=auth)
            assert resp.status == 200, await resp.text()


async def seed(database_url: str, schema: str, doc: dict[str, Any]) -> None:
    """Migrate ``schema`` if needed and seed a hall document into it."""
    conn = await db.connect(database_url, schema)
    try:
        await migrate(conn, schema)
        await ensure_admin(conn, ADMIN_PASSWORD)
        await seed_hall(conn, parse_hall(doc), {"TEST_OPERATOR_PASSWORD": OPERATOR_PASSWORD})
    finally:
        await conn.close()


@pytest.fixture
async def hall(database_url: str, new_schema: SchemaFactory) -> AsyncIterator[TicketingHallKit]:
    """The ticketing app on a fresh schema with a small always-open hall (relay off)."""
    schema = await new_schema()
    clock = Clock()
    app = init_app(settings_for(database_url, schema), clock=clock)
    contract = ContractHolder()  # every response the tests receive is checked against /openapi.json
    client: TestClient[Any, Any] = TestClient(TestServer(app), middlewares=[contract.middleware()])
    await client.start_server()
    branch = new_branch_id()
    try:
        contract.contract = Contract(await (await client.get("/openapi.json")).json())
        await seed(database_url, schema, hall_doc(branch))
        yield TicketingHallKit(client, clock, branch, schema)
    finally:
        await client.close()
