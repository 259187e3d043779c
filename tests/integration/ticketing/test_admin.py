"""Running a hall without files: accounts, live master data, the issuing switch, supervision, audit."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
import yaml

from services.ticketing.domain.hall import parse_hall
from tests.integration.ticketing.conftest import TicketingHallKit, admin_auth, hall_doc, new_branch_id, seed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

STAFF_PASSWORD = "staff-password-1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(hall: TicketingHallKit, username: str, password: str = STAFF_PASSWORD) -> str:
    resp = await hall.client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["token"])


async def make_user(
    hall: TicketingHallKit, auth: dict[str, str], username: str, role: str, **extra: Any
) -> str:
    body = {"username": username, "password": STAFF_PASSWORD, "role": role, "branch_id": hall.branch, **extra}
    resp = await hall.client.post("/api/v1/users", json=body, headers=auth)
    assert resp.status == 201, await resp.text()
    return await login(hall, username)


async def outbox_types(hall: TicketingHallKit, database_url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": hall.schema})
    try:
        rows = await conn.fetch("SELECT event FROM outbox ORDER BY id")
    finally:
        await conn.close()
    return [json.loads(r["event"]) for r in rows]


async def test_logout_sessions_and_password_change(hall: TicketingHallKit) -> None:
    admin = await admin_auth(hall.client)
    token = await make_user(hall, admin, f"{hall.branch}-sup", "supervisor")
    other = await login(hall, f"{hall.branch}-sup")
    listed = await hall.client.get("/api/v1/auth/sessions", headers=bearer(token))
    items = (await listed.json())["items"]
    assert len(items) == 2
    assert sum(i["current"] for i in items) == 1
    foreign = next(i for i in items if not i["current"])
    ended = await hall.client.delete(f"/api/v1/auth/sessions/{foreign['id']}", headers=bearer(token))
    assert ended.status == 204
    assert (await hall.client.get("/api/v1/auth/sessions", headers=bearer(other))).status == 401
    wrong = {"current_password": "nope-nope", "new_password": "another-pass-2"}
    assert (await hall.client.post("/api/v1/auth/password", json=wrong, headers=bearer(token))).status == 401
    right = {"current_password": STAFF_PASSWORD, "new_password": "another-pass-2"}
    assert (await hall.client.post("/api/v1/auth/password", json=right, headers=bearer(token))).status == 204
    await login(hall, f"{hall.branch}-sup", "another-pass-2")
    assert (await hall.client.post("/api/v1/auth/logout", headers=bearer(token))).status == 204
    assert (await hall.client.get("/api/v1/auth/sessions", headers=bearer(token))).status == 401


async def test_login_names_the_branch_and_a_disabled_users_token_is_refused_at_once(
    hall: TicketingHallKit,
) -> None:
    admin = await admin_auth(hall.client)
    token = await make_user(hall, admin, f"{hall.branch}-ba", "branch_admin")
    resp = await hall.client.post(
        "/api/v1/auth/login", json={"username": f"{hall.branch}-ba", "password": STAFF_PASSWORD}
    )
    assert (await resp.json())["branch_id"] == hall.branch
    assert (await hall.client.get("/api/v1/users", headers=bearer(token))).status == 200
    patch = await hall.client.patch(f"/api/v1/users/{hall.branch}-ba", json={"disabled": True}, headers=admin)
    assert patch.status == 200
    assert (await patch.json())["disabled"] is True
    assert (await hall.client.get("/api/v1/users", headers=bearer(token))).status == 401


async def test_master_data_changes_live_audited_and_announced(
    hall: TicketingHallKit, database_url: str
) -> None:
    admin = await admin_auth(hall.client)
    ba = await make_user(hall, admin, f"{hall.branch}-ba", "branch_admin")
    b = hall.branch
    agency = await hall.client.post(
        f"/api/v1/branches/{b}/agencies", json={"id": f"{b}-bpjs", "name": "BPJS"}, headers=bearer(ba)
    )
    assert agency.status == 201, await agency.text()
    bad = await hall.client.post(
        f"/api/v1/branches/{b}/services",
        json={"id": "elsewhere-x", "agency_id": f"{b}-bpjs", "name": "X", "prefix": "D", "quota": 10},
        headers=bearer(ba),
    )
    assert bad.status == 422  # the hall loader's rule: ids start with the branch id
    service = await hall.client.post(
        f"/api/v1/branches/{b}/services",
        json={"id": f"{b}-jkn", "agency_id": f"{b}-bpjs", "name": "JKN", "prefix": "D", "quota": 50,
              "service_minutes": 7, "holidays": [{"date": "2030-01-01", "name": "Tahun Baru"}]},
        headers=bearer(ba),
    )  # fmt: skip
    assert service.status == 201, await service.text()
    dup = await hall.client.post(
        f"/api/v1/branches/{b}/services",
        json={"id": f"{b}-jkn2", "agency_id": f"{b}-bpjs", "name": "JKN 2", "prefix": "D", "quota": 5},
        headers=bearer(ba),
    )
    assert dup.status == 409
    counter = await hall.client.post(
        f"/api/v1/branches/{b}/counters",
        json={"id": f"{b}-loket-9", "name": "Loket 9", "zone": "lantai-1", "service_ids": [f"{b}-jkn"]},
        headers=bearer(ba),
    )
    assert counter.status == 201, await counter.text()
    branch = await (await hall.client.get(f"/api/v1/branches/{b}")).json()
    assert f"{b}-jkn" in [s["id"] for s in branch["services"]]
    assert f"{b}-loket-9" in [c["id"] for c in branch["counters"]]
    renamed = await hall.client.patch(
        f"/api/v1/services/{b}-jkn", json={"name": "JKN-KIS"}, headers=bearer(ba)
    )
    assert (await renamed.json())["name"] == "JKN-KIS"
    ticket = await hall.issue("jkn")
    assert (await ticket.json())["number"] == "D001"
    # deleting the service the only counter 9 serves is refused; after reassigning, it is soft-deleted
    assert (
        await hall.client.patch(f"/api/v1/services/{b}-jkn", json={"deleted": True}, headers=bearer(ba))
    ).status == 409
    moved = await hall.client.patch(
        f"/api/v1/counters/{b}-loket-9", json={"service_ids": [f"{b}-pkb", f"{b}-jkn"]}, headers=bearer(ba)
    )
    assert (await moved.json())["service_ids"] == [f"{b}-pkb", f"{b}-jkn"]
    gone = await hall.client.patch(f"/api/v1/services/{b}-jkn", json={"deleted": True}, headers=bearer(ba))
    assert (await gone.json())["deleted"] is True
    branch = await (await hall.client.get(f"/api/v1/branches/{b}")).json()
    assert f"{b}-jkn" not in [s["id"] for s in branch["services"]]
    assert (await hall.client.get(f"/api/v1/tickets/{(await ticket.json())['id']}")).status == 200  # history
    assert (await hall.issue("jkn")).status == 422
    audit = await (await hall.client.get(f"/api/v1/audit?branch_id={b}", headers=bearer(ba))).json()
    actions = [i["action"] for i in audit["items"]]
    assert actions[:6] == ["service.deleted", "counter.updated", "service.updated", "counter.created",
                           "service.created", "agency.created"]  # fmt: skip
    assert audit["items"][0]["before"]["deleted"] is False
    configured = [e for e in await outbox_types(hall, database_url) if e["type"] == "hall.configured"]
    assert [(e["data"]["kind"], e["data"]["action"]) for e in configured] == [
        ("agency", "created"), ("service", "created"), ("counter", "created"), ("service", "updated"),
        ("counter", "updated"), ("service", "deleted"),
    ]  # fmt: skip


async def test_export_round_trips_through_the_hall_loader(
    hall: TicketingHallKit, database_url: str, new_schema: Any
) -> None:
    admin = await admin_auth(hall.client)
    b = hall.branch
    patched = await hall.client.patch(
        f"/api/v1/services/{b}-kk",
        json={"hours": {"mon": "08:00-12:00"}, "issuing_cutoff_minutes": 15,
              "breaks": [{"name": "Jumatan", "days": ["fri"], "time": "11:30-13:00"}]},
        headers=admin,
    )  # fmt: skip
    assert patched.status == 200, await patched.text()
    resp = await hall.client.get(f"/api/v1/branches/{b}/export.yaml", headers=admin)
    assert resp.status == 200, await resp.text()
    text = await resp.text()
    parsed = parse_hall(yaml.safe_load(text))
    assert [s.id for s in parsed.services] == [f"{b}-ktp", f"{b}-kk", f"{b}-pkb"]
    kk = parsed.services[1]
    assert kk.hours == {"mon": "08:00-12:00"}
    assert kk.rules is not None
    assert kk.rules["issuing_cutoff_minutes"] == 15
    # the export seeds another deployment, whose export is the same file
    other = await new_schema()
    await seed(database_url, other, yaml.safe_load(text))
    conn = await asyncpg.connect(database_url, server_settings={"search_path": other})
    try:
        from services.ticketing import config, db

        pool = await db.create_pool(database_url, other, max_size=2)
        try:
            again = await config.export_hall(pool, b)
        finally:
            await pool.close()
    finally:
        await conn.close()
    assert again == yaml.safe_load(text)
    assert hall_doc  # the fixture's document is the origin of both


async def test_issuing_switch_refuses_with_the_supervisors_reason(hall: TicketingHallKit) -> None:
    admin = await admin_auth(hall.client)
    sup = await make_user(hall, admin, f"{hall.branch}-sup", "supervisor")
    url = f"/api/v1/services/{hall.service('ktp')}/issuing"
    stop = await hall.client.put(
        url, json={"open": False, "reason": "Server KTP gangguan"}, headers=bearer(sup)
    )
    assert stop.status == 200, await stop.text()
    refused = await hall.issue("ktp")
    assert refused.status == 409
    body = await refused.json()
    assert body["reason"] == "stopped"
    assert "Server KTP gangguan" in body["detail"]
    detail = await (await hall.client.get(f"/api/v1/branches/{hall.branch}")).json()
    ktp = next(s for s in detail["services"] if s["id"] == hall.service("ktp"))
    assert ktp["issuing_open"] is False
    assert ktp["issuing_stop_reason"] == "Server KTP gangguan"
    assert (await hall.client.put(url, json={"open": True}, headers=bearer(sup))).status == 200
    assert (await hall.issue("ktp")).status == 201


async def test_supervisor_moves_cancels_closes_and_announces_in_own_branch_only(
    hall: TicketingHallKit, database_url: str
) -> None:
    admin = await admin_auth(hall.client)
    sup = await make_user(hall, admin, f"{hall.branch}-sup", "supervisor")
    other_branch = new_branch_id()
    await seed(database_url, hall.schema, hall_doc(other_branch))
    one = await (await hall.issue("ktp")).json()
    two = await (await hall.issue("ktp")).json()
    moved = await hall.client.post(
        f"/api/v1/tickets/{one['id']}/move", json={"service_id": hall.service("pkb")}, headers=bearer(sup)
    )
    assert moved.status == 200
    assert (await moved.json())["service_id"] == hall.service("pkb")
    cancel = await hall.client.post(
        f"/api/v1/tickets/{two['id']}/staff-cancel", json={"reason": "double ticket"}, headers=bearer(sup)
    )
    assert (await cancel.json())["cancel_reason"] == "staff"
    assert (await hall.act(1, "open")).status == 200
    closed = await hall.client.post(f"/api/v1/counters/{hall.counter(1)}/close", headers=bearer(sup))
    assert closed.status == 200, await closed.text()
    said = await hall.client.post(
        f"/api/v1/branches/{hall.branch}/announcements",
        json={"text": "Loket 3 tutup pukul 14.00", "mode": "marquee"},
        headers=bearer(sup),
    )
    assert said.status == 201
    foreign = await hall.client.post(
        f"/api/v1/branches/{other_branch}/announcements", json={"text": "x"}, headers=bearer(sup)
    )
    assert foreign.status == 403
    assert (
        await hall.client.get(f"/api/v1/audit?branch_id={other_branch}", headers=bearer(sup))
    ).status == 403
    audit = await (
        await hall.client.get(f"/api/v1/audit?branch_id={hall.branch}", headers=bearer(sup))
    ).json()
    actions = [i["action"] for i in audit["items"]]
    assert actions[:4] == ["hall.announcement", "counter.closed", "counter.opened", "ticket.cancelled"]
    assert "ticket.moved" in actions
    assert audit["items"][1]["actor"] == f"{hall.branch}-sup"
    events = await outbox_types(hall, database_url)
    assert any(e["type"] == "hall.announcement" for e in events)


async def test_housekeeping_purges_audit_entries_past_their_retention(hall: TicketingHallKit) -> None:
    from datetime import timedelta

    from services.ticketing.housekeeping import Housekeeper
    from services.ticketing.keys import POOL

    admin = await admin_auth(hall.client)
    await make_user(hall, admin, f"{hall.branch}-old", "operator")
    url = f"/api/v1/audit?branch_id={hall.branch}"
    assert (await (await hall.client.get(url, headers=admin)).json())["items"]
    pool = hall.client.app[POOL]
    keeper = Housekeeper(
        pool, lambda: hall.clock.now + timedelta(days=9), interval=60, audit_retention_days=10
    )
    await keeper.run_once()
    assert (await (await hall.client.get(url, headers=admin)).json())["items"]  # 9 days old: kept
    keeper = Housekeeper(
        pool, lambda: hall.clock.now + timedelta(days=11), interval=60, audit_retention_days=10
    )
    await keeper.run_once()
    assert (await (await hall.client.get(url, headers=admin)).json())["items"] == []
