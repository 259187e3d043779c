"""Every route of the ticketing OpenAPI document × role × own/other branch: allowed or refused.

A role is refused with 401 (anonymous) or 403 (logged in); allowed means any
other answer (a 404 or 409 of the state of things is not an authorisation
answer). A route that the table below does not know fails the test, so a new
route cannot go unclassified.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.ticketing.conftest import (
    ADMIN_PASSWORD,
    OPERATOR_PASSWORD,
    TicketingHallKit,
    admin_auth,
    hall_doc,
    new_branch_id,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROLES = ("anonymous", "operator", "supervisor", "branch_admin", "admin")
STAFF_PASSWORD = "staff-password-1"

PUBLIC = "public"  # anyone
ANY_USER = "any user"  # any logged-in user, about themselves
COUNTER = "counter"  # the counter's operator; supervisors and branch_admins of its branch; the admin
BRANCH_ADMIN = "branch_admin"  # the branch's branch_admin; the admin
SUPERVISING = "supervising"  # the branch's supervisor or branch_admin; the admin
USERS_VIEW = "users view"  # supervisors and branch_admins (their own branch's list); the admin

RULES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/kiosk/{branch_id}"): PUBLIC,
    ("GET", "/counter"): PUBLIC,
    ("GET", "/t/{ticket_id}"): PUBLIC,
    ("GET", "/static/common.css"): PUBLIC,
    ("GET", "/admin"): PUBLIC,
    ("GET", "/supervisor/{branch_id}"): PUBLIC,
    # the kiosk, the printed ticket and the desk survey (issue 12): citizens' pages and data
    ("GET", "/api/v1/branches/{branch_id}/kiosk"): PUBLIC,
    ("GET", "/api/v1/branches/{branch_id}/services/search"): PUBLIC,
    ("GET", "/api/v1/tickets/{ticket_id}/escpos"): PUBLIC,
    ("GET", "/print/{ticket_id}"): PUBLIC,
    ("GET", "/api/v1/counters/{counter_id}/survey"): PUBLIC,
    ("POST", "/api/v1/counters/{counter_id}/survey"): PUBLIC,
    ("GET", "/counter/{counter_id}/survey-sign"): PUBLIC,
    ("GET", "/survey/desk/{counter_id}"): PUBLIC,
    # the console (issue 12): the live stream carries public hints only
    ("GET", "/api/v1/branches/{branch_id}/live"): PUBLIC,
    ("POST", "/api/v1/counters/{counter_id}/park"): COUNTER,
    ("POST", "/api/v1/tickets/{ticket_id}/return"): COUNTER,
    ("POST", "/api/v1/tickets/{ticket_id}/reactivate"): COUNTER,
    ("GET", "/api/v1/counters/{counter_id}/queue"): COUNTER,
    ("GET", "/api/v1/counters/{counter_id}/console"): COUNTER,
    # online booking (issue 14): citizens hold a booking by its code
    ("GET", "/book/{branch_id}"): PUBLIC,
    ("GET", "/api/v1/services/{service_id}/slots"): PUBLIC,
    ("POST", "/api/v1/bookings"): PUBLIC,
    ("GET", "/api/v1/bookings/{code}"): PUBLIC,
    ("GET", "/api/v1/bookings/{code}/qr.svg"): PUBLIC,
    ("PATCH", "/api/v1/bookings/{code}"): PUBLIC,
    ("DELETE", "/api/v1/bookings/{code}"): PUBLIC,
    ("POST", "/api/v1/bookings/{code}/check-in"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("GET", "/api/v1/branches"): PUBLIC,
    ("GET", "/api/v1/branches/{branch_id}"): PUBLIC,
    ("GET", "/api/v1/branches/{branch_id}/queue"): PUBLIC,
    ("POST", "/api/v1/branches/{branch_id}/tickets"): PUBLIC,
    ("GET", "/api/v1/tickets/{ticket_id}"): PUBLIC,
    ("GET", "/api/v1/tickets/{ticket_id}/qr.svg"): PUBLIC,
    ("POST", "/api/v1/tickets/{ticket_id}/cancel"): PUBLIC,
    ("POST", "/api/v1/tickets/{ticket_id}/survey"): PUBLIC,
    ("GET", "/api/v1/counters/{counter_id}"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ANY_USER,
    ("GET", "/api/v1/auth/sessions"): ANY_USER,
    ("DELETE", "/api/v1/auth/sessions/{session_id}"): ANY_USER,
    ("POST", "/api/v1/auth/password"): ANY_USER,
    **{
        ("POST", f"/api/v1/counters/{{counter_id}}/{action}"): COUNTER
        for action in (
            "call-next",
            "recall",
            "start",
            "complete",
            "no-show",
            "transfer",
            "open",
            "pause",
            "close",
        )
    },
    ("GET", "/api/v1/users"): USERS_VIEW,
    ("POST", "/api/v1/users"): BRANCH_ADMIN,
    ("PATCH", "/api/v1/users/{username}"): BRANCH_ADMIN,
    ("POST", "/api/v1/branches/{branch_id}/agencies"): BRANCH_ADMIN,
    ("POST", "/api/v1/branches/{branch_id}/services"): BRANCH_ADMIN,
    ("POST", "/api/v1/branches/{branch_id}/counters"): BRANCH_ADMIN,
    ("PATCH", "/api/v1/services/{service_id}"): BRANCH_ADMIN,
    ("PATCH", "/api/v1/counters/{counter_id}"): BRANCH_ADMIN,
    ("GET", "/api/v1/branches/{branch_id}/export.yaml"): SUPERVISING,
    ("PUT", "/api/v1/services/{service_id}/issuing"): SUPERVISING,
    ("POST", "/api/v1/tickets/{ticket_id}/staff-cancel"): SUPERVISING,
    ("POST", "/api/v1/tickets/{ticket_id}/move"): SUPERVISING,
    ("POST", "/api/v1/branches/{branch_id}/announcements"): SUPERVISING,
    ("GET", "/api/v1/audit"): SUPERVISING,
    ("GET", "/api/v1/branches/{branch_id}/monitor"): SUPERVISING,
}


def rule_of(method: str, path: str) -> str | None:
    """The rule of a route; every static file of the pages is public."""
    return RULES.get((method, path)) or (PUBLIC if method == "GET" and path.startswith("/static/") else None)


def allowed(rule: str, role: str, own: bool) -> bool:
    """The expected answer of the matrix."""
    if rule == PUBLIC:
        return True
    if role == "anonymous":
        return False
    if role == "admin" or rule == ANY_USER:
        return True
    if rule == USERS_VIEW:
        return role in ("supervisor", "branch_admin")
    if not own:
        return False
    wanted = {
        COUNTER: ("operator", "supervisor", "branch_admin"),
        BRANCH_ADMIN: ("branch_admin",),
        SUPERVISING: ("supervisor", "branch_admin"),
    }
    return role in wanted[rule]


@dataclass
class World:
    """Two branches, a user of each role in the first, and fresh objects to act on."""

    hall: TicketingHallKit
    other: str
    tokens: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    def branch(self, own: bool) -> str:
        return self.hall.branch if own else self.other

    async def ticket(self, branch: str) -> str:
        resp = await self.hall.client.post(
            f"/api/v1/branches/{branch}/tickets", json={"service_id": f"{branch}-ktp"}
        )
        assert resp.status == 201, await resp.text()
        return str((await resp.json())["id"])


Body = Callable[[World, str], Any]
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/branches/{branch_id}/tickets"): lambda w, b: {"service_id": f"{b}-ktp"},
    ("POST", "/api/v1/tickets/{ticket_id}/survey"): lambda w, b: {"scores": [4] * 9},
    ("POST", "/api/v1/counters/{counter_id}/transfer"): lambda w, b: {"service_id": f"{b}-pkb"},
    ("POST", "/api/v1/users"): lambda w, b: {
        "username": f"u{uuid.uuid4().hex[:10]}", "password": STAFF_PASSWORD, "role": "operator",
        "branch_id": b,
    },
    ("PATCH", "/api/v1/users/{username}"): lambda w, b: {"counter_ids": []},
    ("POST", "/api/v1/branches/{branch_id}/agencies"): lambda w, b: {
        "id": f"{b}-a{uuid.uuid4().hex[:8]}", "name": "Agency"
    },
    ("POST", "/api/v1/branches/{branch_id}/services"): lambda w, b: {
        "id": f"{b}-s{uuid.uuid4().hex[:8]}", "agency_id": f"{b}-samsat", "name": "S",
        "prefix": "".join(__import__("random").choice("DEFGHJKLMNPQRSTUVWXYZ") for _ in range(3)), "quota": 9,
    },
    ("POST", "/api/v1/branches/{branch_id}/counters"): lambda w, b: {
        "id": f"{b}-c{uuid.uuid4().hex[:8]}", "name": "Loket X", "zone": "lantai-1",
        "service_ids": [f"{b}-pkb"],
    },
    ("PATCH", "/api/v1/services/{service_id}"): lambda w, b: {"name": "KTP-el"},
    ("PATCH", "/api/v1/counters/{counter_id}"): lambda w, b: {"name": "Loket 1"},
    ("PUT", "/api/v1/services/{service_id}/issuing"): lambda w, b: {"open": True},
    ("POST", "/api/v1/tickets/{ticket_id}/staff-cancel"): lambda w, b: {"reason": "test"},
    ("POST", "/api/v1/tickets/{ticket_id}/move"): lambda w, b: {"service_id": f"{b}-pkb"},
    ("POST", "/api/v1/branches/{branch_id}/announcements"): lambda w, b: {"text": "Halo"},
}  # fmt: skip


async def build_world(hall: TicketingHallKit, database_url: str) -> World:
    other = new_branch_id()
    await seed(database_url, hall.schema, hall_doc(other))
    world = World(hall, other)
    admin = await admin_auth(hall.client)
    world.tokens["admin"] = admin["Authorization"].removeprefix("Bearer ")
    world.passwords["admin"] = ADMIN_PASSWORD
    world.tokens["operator"] = await hall.token(f"{hall.branch}-op1")
    world.passwords["operator"] = OPERATOR_PASSWORD
    for branch, role in itertools.product((hall.branch, other), ("supervisor", "branch_admin", "victim")):
        body = {
            "username": f"{branch}-{role}".replace("_", "-"),
            "password": STAFF_PASSWORD,
            "role": "operator" if role == "victim" else role,
            "branch_id": branch,
        }
        resp = await hall.client.post("/api/v1/users", json=body, headers=admin)
        assert resp.status == 201, await resp.text()
        if branch == hall.branch and role != "victim":
            login = {"username": body["username"], "password": STAFF_PASSWORD}
            token = await (await hall.client.post("/api/v1/auth/login", json=login)).json()
            world.tokens[role] = token["token"]
            world.passwords[role] = STAFF_PASSWORD
    return world


async def url_for(world: World, path: str, own: bool) -> str:
    branch = world.branch(own)
    values = {
        "branch_id": branch,
        "counter_id": f"{branch}-loket-1",
        "service_id": f"{branch}-ktp",
        "username": f"{branch}-victim",
        "session_id": str(uuid.uuid4()),
        "code": "NOSUCHCODE",
        "filename": "common.css",
    }
    if "{ticket_id}" in path:
        values["ticket_id"] = await world.ticket(branch)
    url = path.format(**values)
    if path == "/api/v1/audit":
        url += f"?branch_id={branch}"
    return url


async def token_for(world: World, role: str, method: str, path: str) -> str | None:
    if role == "anonymous":
        return None
    if (method, path) == ("POST", "/api/v1/auth/logout"):  # a token of its own: this one ends
        username = {"admin": "admin", "operator": f"{world.hall.branch}-op1"}.get(
            role, f"{world.hall.branch}-{role}".replace("_", "-")
        )
        login = {"username": username, "password": world.passwords[role]}
        return str((await (await world.hall.client.post("/api/v1/auth/login", json=login)).json())["token"])
    return world.tokens[role]


def body_for(world: World, role: str, method: str, path: str, own: bool) -> Any:
    if (method, path) == ("POST", "/api/v1/auth/login"):
        return {"username": f"{world.hall.branch}-op2", "password": OPERATOR_PASSWORD}
    if (method, path) == ("POST", "/api/v1/auth/password"):
        password = world.passwords.get(role, STAFF_PASSWORD)
        return {"current_password": password, "new_password": password}
    maker = BODIES.get((method, path))
    return maker(world, world.branch(own)) if maker else None


@pytest.mark.parametrize("role", ROLES)
async def test_every_route_answers_each_role_as_the_matrix_says(
    hall: TicketingHallKit, database_url: str, role: str
) -> None:
    world = await build_world(hall, database_url)
    doc = await (await hall.client.get("/openapi.json")).json()
    routes = sorted((method.upper(), path) for path, ops in doc["paths"].items() for method in ops)
    unknown = [r for r in routes if rule_of(*r) is None]
    assert not unknown, f"routes without a rule in the role matrix: {unknown}"
    wrong = []
    checked = 0
    for (method, path), own in itertools.product(routes, (True, False)):
        rule = rule_of(method, path)
        assert rule is not None
        token = await token_for(world, role, method, path)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = await url_for(world, path, own)
        body = body_for(world, role, method, path, own)
        resp = await hall.client.request(method, url, json=body, headers=headers)
        refused = resp.status in (401, 403)
        expected_refusal = not allowed(rule, role, own)
        checked += 1
        if refused != expected_refusal or (refused and resp.status != (401 if role == "anonymous" else 403)):
            wrong.append(
                f"{method} {path} ({'own' if own else 'other'} branch): {resp.status} {await resp.text()}"
            )
    assert not wrong, "\n".join(wrong)
    assert checked == 2 * len(routes)


async def test_a_disabled_users_token_is_refused_on_the_next_request(
    hall: TicketingHallKit, database_url: str
) -> None:
    world = await build_world(hall, database_url)
    token = {"Authorization": f"Bearer {world.tokens['supervisor']}"}
    assert (await hall.client.get("/api/v1/auth/sessions", headers=token)).status == 200
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    username = f"{hall.branch}-supervisor"
    patched = await hall.client.patch(f"/api/v1/users/{username}", json={"disabled": True}, headers=admin)
    assert patched.status == 200
    assert (await hall.client.get("/api/v1/auth/sessions", headers=token)).status == 401
    login = {"username": username, "password": STAFF_PASSWORD}
    assert (await hall.client.post("/api/v1/auth/login", json=login)).status == 401
