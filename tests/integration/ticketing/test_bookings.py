"""Appointments against real PostgreSQL: slots, booking, the concurrency proof, check-in, expiry."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.ticketing import bookings
from services.ticketing.app import init_app
from services.ticketing.keys import POOL
from tests.conftest import SchemaFactory
from tests.integration.ticketing.conftest import (
    TicketingHallKit,
    admin_auth,
    hall_doc,
    new_branch_id,
    seed,
    settings_for,
)

pytestmark = pytest.mark.timeout(120)

WITA = ZoneInfo("Asia/Makassar")


async def _rules(hall: TicketingHallKit, service: str, rules: str) -> None:
    await hall.client.server.app[POOL].execute(
        "UPDATE services SET booking = $2::jsonb WHERE id = $1", hall.service(service), rules
    )


async def _slots(hall: TicketingHallKit, service: str, day: str) -> list[dict[str, Any]]:
    resp = await hall.client.get(f"/api/v1/services/{hall.service(service)}/slots", params={"date": day})
    assert resp.status == 200, await resp.text()
    items: list[dict[str, Any]] = (await resp.json())["items"]
    return items


def _tomorrow(hall: TicketingHallKit) -> str:
    return (hall.clock().astimezone(WITA).date() + timedelta(days=1)).isoformat()


async def _book(hall: TicketingHallKit, service: str, start: str, **extra: Any) -> Any:
    body = {"service_id": hall.service(service), "slot_start": start, **extra}
    return await hall.client.post("/api/v1/bookings", json=body)


async def test_slots_follow_the_schedule_and_count_seats(hall: TicketingHallKit) -> None:
    await _rules(hall, "ktp", '{"slot_minutes": 60, "slot_capacity": 2}')
    items = await _slots(hall, "ktp", _tomorrow(hall))
    assert len(items) == 24  # the test hall is open all day
    assert all(i["capacity"] == 2 and i["available"] == 2 for i in items)
    resp = await _book(hall, "ktp", items[10]["start"], name="Siti", phone="0812 3456 7890")
    assert resp.status == 201, await resp.text()
    booking = await resp.json()
    assert booking["status"] == "booked"
    assert len(booking["code"]) == 8
    assert (await _slots(hall, "ktp", _tomorrow(hall)))[10]["available"] == 1
    got = await hall.client.get(f"/api/v1/bookings/{booking['code'].lower()}")
    assert got.status == 200
    assert (await got.json())["slot_start"] == items[10]["start"]


async def test_200_concurrent_bookings_never_overfill_a_slot(hall: TicketingHallKit) -> None:
    await _rules(hall, "ktp", '{"slot_minutes": 30, "slot_capacity": 5}')
    start = (await _slots(hall, "ktp", _tomorrow(hall)))[20]["start"]
    for i in range(2):
        assert (await _book(hall, "ktp", start, phone=f"0811000000{i}")).status == 201
    staff = await admin_auth(hall.client)  # staff are not throttled per address: only the seats decide

    async def attempt(i: int) -> int:
        body = {"service_id": hall.service("ktp"), "slot_start": start, "phone": f"0812{i:08d}"}
        resp = await hall.client.post("/api/v1/bookings", json=body, headers=staff)
        return resp.status

    statuses = await asyncio.gather(*(attempt(i) for i in range(200)))
    assert statuses.count(201) == 3, statuses
    assert set(statuses) <= {201, 409}
    pool = hall.client.server.app[POOL]
    row = await pool.fetchrow(
        "SELECT capacity, taken FROM booking_slots WHERE service_id = $1", hall.service("ktp")
    )
    booked = await pool.fetchval(
        "SELECT count(*) FROM bookings WHERE service_id = $1 AND status = 'booked'", hall.service("ktp")
    )
    assert (row["capacity"], row["taken"], booked) == (5, 5, 5)
    full = await _book(hall, "ktp", start, phone="0899999999")
    assert full.status == 409
    assert (await full.json())["type"].endswith("slot-full")


async def test_one_active_booking_per_person_per_service_and_day(hall: TicketingHallKit) -> None:
    await _rules(hall, "ktp", '{"require_nik": true}')
    items = await _slots(hall, "ktp", _tomorrow(hall))
    nik = "6372012345678901"
    missing = await _book(hall, "ktp", items[3]["start"])
    assert missing.status == 422
    first = await _book(hall, "ktp", items[3]["start"], nik=nik)
    assert first.status == 201
    second = await _book(hall, "ktp", items[5]["start"], nik=nik)
    assert second.status == 409
    assert (await second.json())["type"].endswith("already-booked")
    other_service = await _book(hall, "pkb", items[5]["start"], nik=nik)
    assert other_service.status == 201
    code = (await first.json())["code"]
    assert (await hall.client.delete(f"/api/v1/bookings/{code}")).status == 204
    again = await _book(hall, "ktp", items[5]["start"], nik=nik)
    assert again.status == 201
    stored = await hall.client.server.app[POOL].fetch("SELECT person_key FROM bookings")
    assert all(nik not in (r["person_key"] or "") for r in stored)


async def test_reschedule_moves_the_seat(hall: TicketingHallKit) -> None:
    await _rules(hall, "ktp", '{"slot_minutes": 60, "slot_capacity": 1}')
    items = await _slots(hall, "ktp", _tomorrow(hall))
    code = (await (await _book(hall, "ktp", items[8]["start"])).json())["code"]
    moved = await hall.client.patch(f"/api/v1/bookings/{code}", json={"slot_start": items[9]["start"]})
    assert moved.status == 200, await moved.text()
    after = await _slots(hall, "ktp", _tomorrow(hall))
    assert (after[8]["available"], after[9]["available"]) == (1, 0)
    assert (await _book(hall, "ktp", items[9]["start"])).status == 409


async def _booking_near_now(hall: TicketingHallKit, minutes_before: float) -> tuple[str, datetime]:
    """A booking of a slot tomorrow, with the clock moved to ``minutes_before`` its start."""
    await _rules(hall, "ktp", '{"slot_minutes": 30, "slot_capacity": 4}')
    items = await _slots(hall, "ktp", _tomorrow(hall))
    slot = items[20]
    code = (await (await _book(hall, "ktp", slot["start"], phone="081234")).json())["code"]
    start = datetime.fromisoformat(slot["start"])
    hall.clock.now = start - timedelta(minutes=minutes_before)
    return code, start


async def test_check_in_queues_the_ticket_at_its_slot_start(hall: TicketingHallKit) -> None:
    code, start = await _booking_near_now(hall, 40)
    early = await hall.client.post(f"/api/v1/bookings/{code}/check-in")
    assert early.status == 409
    assert (await early.json())["reason"] == "too_early"
    hall.clock.now = start - timedelta(minutes=20)
    before = await hall.issue()  # a walk-in who came before the slot starts stays ahead
    assert before.status == 201
    resp = await hall.client.post(f"/api/v1/bookings/{code}/check-in")
    assert resp.status == 201, await resp.text()
    ticket = await resp.json()
    assert ticket["channel"] == "online"
    assert not ticket["late"]
    assert ticket["position"] == 2
    hall.clock.now = start + timedelta(minutes=1)
    after = await hall.issue()  # a walk-in who comes after the slot started is behind
    assert (await after.json())["position"] == 3
    again = await hall.client.post(f"/api/v1/bookings/{code}/check-in")
    assert again.status == 409
    assert (await hall.act(1, "open")).status == 200
    order = []
    for _ in range(3):
        called = await hall.act(1, "call-next")
        order.append((await called.json())["number"])
        for action in ("start", "complete"):
            assert (await hall.act(1, action)).status == 200
    assert order == [(await before.json())["number"], ticket["number"], (await after.json())["number"]]


async def test_a_late_arrival_becomes_a_walk_in(hall: TicketingHallKit) -> None:
    code, _start = await _booking_near_now(hall, -16)
    resp = await hall.client.post(f"/api/v1/bookings/{code}/check-in")
    assert resp.status == 201, await resp.text()
    ticket = await resp.json()
    assert ticket["late"]
    assert ticket["channel"] == "kiosk"
    assert "terlambat" in ticket["message"]
    booking = await (await hall.client.get(f"/api/v1/bookings/{code}")).json()
    assert booking["status"] == "checked_in"
    assert booking["ticket_id"] == ticket["id"]


async def test_bookings_not_checked_in_expire(hall: TicketingHallKit) -> None:
    code, start = await _booking_near_now(hall, 0)
    pool = hall.client.server.app[POOL]
    assert await bookings.expire(pool, start + timedelta(minutes=10)) == 0
    assert await bookings.expire(pool, start + timedelta(minutes=16)) == 1
    assert (await (await hall.client.get(f"/api/v1/bookings/{code}")).json())["status"] == "expired"
    events = await pool.fetch("SELECT event_type FROM outbox ORDER BY id")
    types = [r["event_type"] for r in events]
    assert types.count("appointment.booked") == 1
    assert types.count("appointment.expired") == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/services/nope/slots?date=2026-01-01", None),
        ("GET", "/api/v1/services/{ktp}/slots?date=tomorrow", None),
        ("GET", "/api/v1/services/{ktp}/slots", None),
        ("GET", "/api/v1/bookings/XXXX", None),
        ("POST", "/api/v1/bookings", {"service_id": "{ktp}", "slot_start": "2026-01-01T10:00:00"}),
        ("POST", "/api/v1/bookings", {"service_id": "{ktp}", "slot_start": "2020-01-01T10:00:00Z"}),
        ("POST", "/api/v1/bookings", {"service_id": "{ktp}"}),
        ("POST", "/api/v1/bookings", {"service_id": "{ktp}", "slot_start": "x", "nik": "12"}),
        ("POST", "/api/v1/bookings/ABCDEFGH/check-in", None),
        ("DELETE", "/api/v1/bookings/ABCDEFGH", None),
        ("PATCH", "/api/v1/bookings/ABCDEFGH", {"slot_start": "2026-01-01T10:00:00Z"}),
    ],
)
async def test_bad_input_is_a_4xx_problem(hall: TicketingHallKit, method: str, path: str, body: Any) -> None:
    ktp = hall.service("ktp")
    if body is not None:
        body = {k: v.replace("{ktp}", ktp) for k, v in body.items()}
    resp = await hall.client.request(method, path.replace("{ktp}", ktp), json=body)
    assert 400 <= resp.status < 500, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/problem+json")


async def test_one_nik_is_throttled_whatever_its_address(hall: TicketingHallKit) -> None:
    start = (await _slots(hall, "ktp", _tomorrow(hall)))[30]["start"]
    nik = "6372019999999999"
    statuses = [(await _book(hall, "ktp", start, nik=nik)).status for _ in range(5)]
    assert statuses == [201, 409, 409, 409, 409]
    throttled = await _book(hall, "ktp", start, nik=nik)
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    other = await _book(hall, "ktp", start, nik="6372018888888888")
    assert other.status == 201


async def test_walk_in_tickets_only_from_registered_kiosks_when_required(
    database_url: str, new_schema: SchemaFactory
) -> None:
    schema = await new_schema()
    settings = settings_for(database_url, schema, require_kiosk_token=True, kiosk_tokens="kiosk-a, kiosk-b")
    client: TestClient[Any, Any] = TestClient(TestServer(init_app(settings)))
    await client.start_server()
    branch = new_branch_id()
    try:
        await seed(database_url, schema, hall_doc(branch))
        url = f"/api/v1/branches/{branch}/tickets"
        body = {"service_id": f"{branch}-ktp"}
        refused = await client.post(url, json=body)
        assert refused.status == 403
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert (await client.post(url, json=body, headers={"X-Kiosk-Token": "wrong"})).status == 403
        assert (await client.post(url, json=body, headers={"X-Kiosk-Token": "kiosk-b"})).status == 201
        assert (await client.post(url, json=body, headers=await admin_auth(client))).status == 201
    finally:
        await client.close()
