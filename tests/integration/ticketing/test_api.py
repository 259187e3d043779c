"""The HTTP API of a real hall: issuing, calling, the lifecycle, auth and problem details."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from tests.integration.ticketing.conftest import TicketingHallKit, hall_doc, new_branch_id, seed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PROBLEM = "application/problem+json"


async def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == PROBLEM
    body = await resp.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return dict(body)


async def outbox_events(hall: TicketingHallKit, database_url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": hall.schema})
    try:
        rows = await conn.fetch("SELECT event FROM outbox ORDER BY id")
    finally:
        await conn.close()
    return [json.loads(r["event"]) for r in rows]


async def test_issue_returns_number_position_and_estimate(hall: TicketingHallKit) -> None:
    first = await hall.issue()
    assert first.status == 201
    one = await first.json()
    assert one["number"] == "A001"
    assert one["status"] == "waiting"
    assert one["position"] == 1
    assert one["estimated_wait_seconds"] == 0
    two = await (await hall.issue()).json()
    assert two["number"] == "A002"
    assert two["position"] == 2
    assert two["estimated_wait_seconds"] == 300  # one ahead, 5 min expected, no counter open -> 1 server
    other = await (await hall.issue("pkb", channel="online")).json()
    assert other["number"] == "C001"
    again = await hall.client.get(f"/api/v1/tickets/{one['id']}")
    assert (await again.json())["position"] == 1


async def test_idempotency_key_returns_the_same_ticket(hall: TicketingHallKit) -> None:
    headers = {"Idempotency-Key": "kiosk-7-tap-1"}
    url = f"/api/v1/branches/{hall.branch}/tickets"
    body = {"service_id": hall.service("ktp")}
    a = await hall.client.post(url, json=body, headers=headers)
    b = await hall.client.post(url, json=body, headers=headers)
    assert a.status == b.status == 201
    assert (await a.json())["id"] == (await b.json())["id"]
    assert b.headers["Idempotent-Replayed"] == "true"
    c = await hall.client.post(url, json=body, headers={"Idempotency-Key": "kiosk-7-tap-2"})
    assert (await c.json())["number"] == "A002"
    # The same key for another request is the caller's mistake, not a replay.
    for other in (
        {"service_id": hall.service("kk")},
        {**body, "channel": "online"},
        {**body, "priority": True},
        {**body, "priority_group": "lansia"},
    ):
        refused = await problem(await hall.client.post(url, json=other, headers=headers), 422)
        assert "kiosk-7-tap-1" in refused["detail"]
    again = await hall.client.post(url, json={**body, "channel": "kiosk"}, headers=headers)
    assert (await again.json())["id"] == (await a.json())["id"]  # kiosk is the default channel


async def test_the_estimate_follows_open_counters_and_real_service_times(hall: TicketingHallKit) -> None:
    tickets = [await (await hall.issue()).json() for _ in range(5)]
    last = f"/api/v1/tickets/{tickets[-1]['id']}"

    async def estimate() -> int:
        return int((await (await hall.client.get(last)).json())["estimated_wait_seconds"])

    assert await estimate() == 4 * 300  # four ahead, 5 min expected, nobody open: one counter assumed
    await hall.act(1, "open")
    await hall.act(2, "open")
    assert await estimate() == 4 * 300 // 2  # both counters serve KTP-el
    await hall.act(2, "pause")
    assert await estimate() == 4 * 300
    for _ in range(3):  # three citizens served in 2 minutes each
        assert (await hall.act(1, "call-next")).status == 200
        await hall.act(1, "start")
        hall.clock.advance(minutes=2)
        await hall.act(1, "complete")
    await hall.act(2, "open")
    # One ahead; the average blends 3 real samples of 120 s with the expected 300 s
    # (weight 3 / (3 + 3)): 210 s, shared by two open counters.
    assert await estimate() == 105


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status", "pointers"),
    [
        (b"", 400, None),
        (b"{not json", 400, None),
        (b"[1, 2]", 400, None),
        (b"\xff\xfe", 400, None),
        (b'{"service_id": 5}', 422, ["/service_id"]),
        (b'{"service_id": "nope"}', 422, None),  # well-formed, but the branch has no such service
        (b'{"service_id": "%s", "channel": "fax"}', 422, ["/channel"]),
        (b'{"service_id": "%s", "priority": "yes"}', 422, ["/priority"]),
        (b'{"service_id": "%s", "priority_group": "vip"}', 422, ["/priority_group"]),
        (
            b'{"service_id": "", "channel": 1, "priority": null}',
            422,
            ["/service_id", "/channel", "/priority"],
        ),
    ],
)
async def test_bad_bodies_get_problems(
    hall: TicketingHallKit, body: bytes, status: int, pointers: list[str] | None
) -> None:
    if b"%s" in body:
        body = body.replace(b"%s", hall.service("ktp").encode())
    resp = await hall.client.post(f"/api/v1/branches/{hall.branch}/tickets", data=body, headers=JSON)
    refused = await problem(resp, status)
    if pointers is not None:
        assert [e["pointer"] for e in refused["errors"]] == pointers
        assert all(e["detail"] for e in refused["errors"])


async def test_each_offending_survey_score_is_named(hall: TicketingHallKit) -> None:
    ticket = await (await hall.issue()).json()
    url = f"/api/v1/tickets/{ticket['id']}/survey"
    refused = await problem(
        await hall.client.post(url, json={"scores": [4, 0, 4, 4, True, 4, 4, 4, "4"]}), 422
    )
    assert [e["pointer"] for e in refused["errors"]] == ["/scores/1", "/scores/4", "/scores/8"]
    refused = await problem(await hall.client.post(url, json={}), 422)
    assert [e["pointer"] for e in refused["errors"]] == ["/scores"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_json_endpoints_refuse_other_media_types(hall: TicketingHallKit, content_type: str) -> None:
    body = json.dumps({"service_id": hall.service("ktp")}).encode()
    # (from a foreign page, i.e. with a foreign Origin, such writes are refused before: 403,
    # tests/faults/test_abuse_limits.py)
    headers = {"Content-Type": content_type}
    url = f"/api/v1/branches/{hall.branch}/tickets"
    await problem(await hall.client.post(url, data=body, headers=headers), 415)
    ticket = await (await hall.issue()).json()
    cancel = f"/api/v1/tickets/{ticket['id']}/cancel"
    await problem(await hall.client.post(cancel, data=b"{}", headers=headers), 415)
    login = {"username": "admin", "password": "x"}
    await problem(await hall.client.post("/api/v1/auth/login", data=json.dumps(login), headers=headers), 415)
    assert (await (await hall.client.get(f"/api/v1/tickets/{ticket['id']}")).json())["status"] == "waiting"
    assert (await hall.client.post(url, data=body, headers=JSON)).status == 201


async def test_huge_body_unknown_ids_and_wrong_methods(hall: TicketingHallKit) -> None:
    huge = b'{"service_id": "' + b"x" * 200_000 + b'"}'
    await problem(await hall.client.post(f"/api/v1/branches/{hall.branch}/tickets", data=huge), 413)
    await problem(await hall.client.post("/api/v1/branches/nowhere/tickets", json={"service_id": "x"}), 404)
    await problem(await hall.client.get(f"/api/v1/tickets/{uuid.uuid4()}"), 404)
    await problem(await hall.client.get("/api/v1/tickets/not-a-uuid"), 404)
    await problem(await hall.client.get("/api/v1/branches/nowhere"), 404)
    await problem(await hall.client.get("/no/such/route"), 404)
    await problem(await hall.client.delete(f"/api/v1/branches/{hall.branch}"), 405)
    headers = {"Idempotency-Key": "x" * 300}
    resp = await hall.client.post(
        f"/api/v1/branches/{hall.branch}/tickets", json={"service_id": hall.service("ktp")}, headers=headers
    )
    await problem(resp, 422)


async def test_full_lifecycle_and_survey(hall: TicketingHallKit, database_url: str) -> None:
    ticket = await (await hall.issue(priority_group="lansia")).json()
    await problem(await hall.act(1, "call-next"), 409)  # counter closed
    assert (await hall.act(1, "open")).status == 200
    called = await hall.act(1, "call-next")
    assert called.status == 200
    assert (await called.json())["id"] == ticket["id"]
    await problem(await hall.act(1, "call-next"), 409)  # one active ticket at a time
    await problem(await hall.act(1, "pause"), 409)  # finish first
    assert (await (await hall.act(1, "recall")).json())["recall_count"] == 1
    await problem(await hall.act(1, "complete"), 409)  # not serving yet
    serving = await (await hall.act(1, "start")).json()
    assert serving["status"] == "serving"
    hall.clock.advance(minutes=7)
    done = await (await hall.act(1, "complete")).json()
    assert done["status"] == "completed"
    url = f"/api/v1/tickets/{ticket['id']}/survey"
    await problem(await hall.client.post(url, json={"scores": [4] * 8}), 422)
    await problem(await hall.client.post(url, json={"scores": [4] * 8 + [5]}), 422)
    await problem(await hall.client.post(url, json={"scores": [4] * 8 + [True]}), 422)
    assert (await hall.client.post(url, json={"scores": [4, 3, 4, 4, 3, 4, 4, 4, 4]})).status == 201
    await problem(await hall.client.post(url, json={"scores": [4] * 9}), 409)
    assert (await hall.act(1, "call-next")).status == 204

    events = await outbox_events(hall, database_url)
    types = [e["type"] for e in events]
    assert types == [
        "ticket.issued",
        "counter.opened",
        "ticket.called",
        "ticket.recalled",
        "ticket.serving",
        "ticket.completed",
        "survey.submitted",
    ]
    always = {
        "ticket_id", "number", "branch_id", "timezone", "business_date", "service_id", "service_name",
        "agency_id", "agency_name", "counter_id", "counter_name", "zone", "priority", "priority_group",
        "channel", "issued_at", "status",
    }  # fmt: skip
    per_type = {
        "ticket.issued": {"position", "estimated_wait_seconds", "target_wait_seconds"},
        "ticket.called": {"called_at", "operator", "forced"},
        "ticket.recalled": {"recall_count"},
        "ticket.serving": {"serving_at"},
        "ticket.completed": {"completed_at", "serving_at"},
    }
    for event in events:
        if event["type"] in per_type:
            assert always | per_type[event["type"]] <= set(event["data"]), event["type"]
            assert event["data"]["priority_group"] == "lansia"
    issued, called_ev = events[0]["data"], events[2]["data"]
    assert issued["counter_id"] is None
    assert called_ev["counter_id"] == hall.counter(1)
    assert called_ev["zone"] == "lantai-1"
    assert called_ev["operator"] == f"{hall.branch}-op1"
    assert called_ev["forced"] is False
    assert events[1]["data"]["status"] == "open"
    assert events[6]["data"]["scores"] == [4, 3, 4, 4, 3, 4, 4, 4, 4]
    assert events[5]["data"]["completed_at"] > events[5]["data"]["serving_at"]


async def test_no_show_needs_recall_and_time(hall: TicketingHallKit) -> None:
    await hall.issue()
    await hall.act(1, "open")
    await hall.act(1, "call-next")
    await problem(await hall.act(1, "no-show"), 409)  # no recall yet
    await hall.act(1, "recall")
    await problem(await hall.act(1, "no-show"), 409)  # too soon
    hall.clock.advance(seconds=61)
    gone = await hall.act(1, "no-show")
    assert (await gone.json())["status"] == "no_show"


async def test_no_show_time_counts_from_the_call_at_this_counter_not_the_first_call(
    hall: TicketingHallKit,
) -> None:
    await hall.issue("pkb")
    await hall.act(3, "open")
    await hall.act(3, "call-next")  # the first call: first_called_at
    await hall.act(3, "start")
    hall.clock.advance(seconds=600)
    await hall.act(3, "transfer", json={"service_id": hall.service("ktp")})
    await hall.act(1, "open")
    await hall.act(1, "call-next")  # the call that counts: called_at
    await hall.act(1, "recall")
    refused = await problem(
        await hall.act(1, "no-show"), 409
    )  # 600 s after the first call, 0 s after this one
    assert "after the call" in refused["detail"]
    hall.clock.advance(seconds=61)
    assert (await (await hall.act(1, "no-show")).json())["status"] == "no_show"


async def test_transfer_keeps_number_and_place(hall: TicketingHallKit, database_url: str) -> None:
    first = await (await hall.issue("pkb")).json()
    hall.clock.advance(seconds=1)
    later = await (await hall.issue("ktp")).json()
    await hall.act(3, "open")
    await hall.act(3, "call-next")
    await hall.act(3, "start")
    await problem(await hall.act(3, "transfer", json={}), 422)
    await problem(await hall.act(3, "transfer", json={"service_id": "nope"}), 422)
    moved = await (await hall.act(3, "transfer", json={"service_id": hall.service("ktp")})).json()
    assert moved["status"] == "waiting"
    assert moved["number"] == first["number"] == "C001"
    assert moved["position"] == 1  # ahead of the KTP ticket issued after it
    await hall.act(1, "open")
    called = await (await hall.act(1, "call-next")).json()
    assert called["id"] == first["id"]
    assert (await (await hall.client.get(f"/api/v1/tickets/{later['id']}")).json())["position"] == 1
    transferred = next(
        e for e in await outbox_events(hall, database_url) if e["type"] == "ticket.transferred"
    )
    data = transferred["data"]
    assert (data["service_id"], data["from_service_id"]) == (hall.service("ktp"), hall.service("pkb"))
    assert (data["agency_id"], data["from_agency_id"]) == (f"{hall.branch}-dukcapil", f"{hall.branch}-samsat")
    assert data["from_counter_id"] == data["counter_id"] == hall.counter(3)
    assert (data["status"], data["number"]) == ("waiting", "C001")


async def test_concurrent_double_tap_gives_one_ticket(hall: TicketingHallKit) -> None:
    url = f"/api/v1/branches/{hall.branch}/tickets"
    body = {"service_id": hall.service("ktp")}
    taps = await asyncio.gather(
        *(hall.client.post(url, json=body, headers={"Idempotency-Key": "double-tap"}) for _ in range(6))
    )
    assert {r.status for r in taps} == {201}
    assert len({(await r.json())["id"] for r in taps}) == 1
    assert (await (await hall.issue()).json())["number"] == "A002"


async def test_cancel_only_while_waiting(hall: TicketingHallKit) -> None:
    one = await (await hall.issue()).json()
    two = await (await hall.issue()).json()
    cancelled = await hall.client.post(f"/api/v1/tickets/{two['id']}/cancel")
    assert (await cancelled.json())["status"] == "cancelled"
    await problem(await hall.client.post(f"/api/v1/tickets/{two['id']}/cancel"), 409)
    await hall.act(1, "open")
    await hall.act(1, "call-next")
    await problem(await hall.client.post(f"/api/v1/tickets/{one['id']}/cancel"), 409)
    assert (await hall.act(1, "start")).status == 200
    await hall.act(1, "complete")
    assert (await hall.act(1, "call-next")).status == 204  # the cancelled one is never called


async def test_priority_first_but_capped(hall: TicketingHallKit) -> None:
    normal = [await (await hall.issue()).json() for _ in range(2)]
    prio = [await (await hall.issue(priority=True)).json() for _ in range(3)]
    await hall.act(1, "open")
    order = []
    for _ in range(5):
        called = await (await hall.act(1, "call-next")).json()
        order.append(called["id"])
        await hall.act(1, "start")
        await hall.act(1, "complete")
    # cap is 2 in the test hall: P P N P N
    assert order == [prio[0]["id"], prio[1]["id"], normal[0]["id"], prio[2]["id"], normal[1]["id"]]


async def test_pausing_does_not_reset_the_priority_streak(hall: TicketingHallKit) -> None:
    normal = await (await hall.issue()).json()
    prio = [await (await hall.issue(priority=True)).json() for _ in range(3)]
    await hall.act(1, "open")
    order = []
    for _ in range(3):
        called = await (await hall.act(1, "call-next")).json()
        order.append(called["id"])
        await hall.act(1, "start")
        await hall.act(1, "complete")
        for action in ("pause", "open", "close", "open"):  # a break between every call
            assert (await hall.act(1, action)).status == 200
    # cap is 2 in the test hall: the normal ticket's turn comes however often the counter pauses
    assert order == [prio[0]["id"], prio[1]["id"], normal["id"]]


async def test_auth_rules(hall: TicketingHallKit) -> None:
    url = f"/api/v1/counters/{hall.counter(1)}/open"
    await problem(await hall.client.post(url), 401)
    await problem(await hall.client.post(url, headers={"Authorization": "Bearer nope"}), 401)
    bad = await hall.client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong"})
    await problem(bad, 401)
    await problem(await hall.client.post("/api/v1/auth/login", json={"username": "admin"}), 422)
    await problem(await hall.act(1, "open", user=f"{hall.branch}-op2"), 403)
    assert (await hall.act(1, "open", user="admin")).status == 200
    # Tokens expire.
    token = await hall.token(f"{hall.branch}-op1")
    hall.clock.advance(hours=9)
    await problem(await hall.client.post(url, headers={"Authorization": f"Bearer {token}"}), 401)


async def test_admin_may_call_a_specific_ticket(hall: TicketingHallKit, database_url: str) -> None:
    first = await (await hall.issue()).json()
    second = await (await hall.issue()).json()
    await hall.act(1, "open")
    await problem(await hall.act(1, "call-next", json={"ticket_id": second["id"]}), 403)
    forced = await hall.act(1, "call-next", user="admin", json={"ticket_id": second["id"]})
    assert (await forced.json())["id"] == second["id"]
    called = [e for e in await outbox_events(hall, database_url) if e["type"] == "ticket.called"]
    assert called[-1]["data"]["forced"] is True
    assert called[-1]["data"]["operator"] == "admin"
    assert first["status"] == "waiting"
    # Not a ticket left over from another business day.
    assert (await hall.act(1, "start", user="admin")).status == 200
    assert (await hall.act(1, "complete", user="admin")).status == 200
    hall.clock.advance(hours=24)
    hall.tokens.clear()  # yesterday's tokens have expired
    stale = await problem(await hall.act(1, "call-next", user="admin", json={"ticket_id": first["id"]}), 409)
    assert "business day" in stale["detail"]


async def test_quota_refusal_says_why_and_when(hall: TicketingHallKit) -> None:
    for _ in range(3):
        assert (await hall.issue("kk")).status == 201
    body = await problem(await hall.issue("kk"), 409)
    assert body["reason"] == "quota"
    retry = datetime.fromisoformat(body["retry_at"])
    local_today = hall.clock.now.astimezone(ZoneInfo("Asia/Makassar")).date()
    assert retry.date() == local_today + timedelta(days=1)
    local = retry.astimezone(ZoneInfo("Asia/Makassar"))
    assert "Kuota harian" in body["detail"]
    assert f"Silakan datang kembali {local:%Y-%m-%d %H:%M} (Asia/Makassar)." in body["detail"]


async def test_numbers_restart_at_local_midnight(hall: TicketingHallKit) -> None:
    wita = ZoneInfo("Asia/Makassar")
    hall.clock.now = datetime(2026, 11, 30, 23, 59, 30, tzinfo=wita)
    before = await (await hall.issue()).json()
    hall.clock.advance(seconds=20)
    still = await (await hall.issue()).json()
    hall.clock.advance(seconds=20)  # 00:00:10 WITA = 16:00:10 UTC the previous UTC day
    after = await (await hall.issue()).json()
    assert (before["number"], still["number"], after["number"]) == ("A001", "A002", "A001")
    assert before["business_date"] == "2026-11-30"
    assert after["business_date"] == "2026-12-01"
    assert hall.clock.now.astimezone(UTC).date().isoformat() == "2026-11-30"


async def test_branch_views_and_queue(hall: TicketingHallKit) -> None:
    await hall.issue()
    await hall.issue(priority=True)
    branches = await (await hall.client.get("/api/v1/branches")).json()
    assert hall.branch in [b["id"] for b in branches["items"]]
    branch = await (await hall.client.get(f"/api/v1/branches/{hall.branch}")).json()
    assert branch["timezone"] == "Asia/Makassar"
    assert {c["id"] for c in branch["counters"]} == {hall.counter(n) for n in (1, 2, 3)}
    assert {"id", "name", "zone", "service_ids", "status"} <= set(branch["counters"][0])
    assert {"id", "agency_id", "name", "prefix"} <= set(branch["services"][0])
    queue = await (await hall.client.get(f"/api/v1/branches/{hall.branch}/queue")).json()
    ktp = next(s for s in queue["services"] if s["service_id"] == hall.service("ktp"))
    assert (ktp["waiting"], ktp["waiting_priority"]) == (2, 1)
    assert queue["waiting"] == 2


async def test_operations_endpoints(hall: TicketingHallKit) -> None:
    assert (await hall.client.get("/healthz")).status == 200
    ready = await hall.client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"]["kafka"] == "disabled"
    await hall.issue()
    metrics = await (await hall.client.get("/metrics")).text()
    assert (
        'qms_http_request_duration_seconds_count{method="POST",route="/api/v1/branches/{branch_id}/tickets"'
        in metrics
    )
    assert "process_cpu_seconds_total" in metrics
    assert hall.branch not in metrics  # route patterns, never raw paths


async def test_pages_are_served(hall: TicketingHallKit) -> None:
    ticket = await (await hall.issue()).json()
    qr = await hall.client.get(f"/api/v1/tickets/{ticket['id']}/qr.svg")
    assert qr.status == 200
    assert qr.content_type == "image/svg+xml"
    assert (await qr.text()).startswith("<svg")
    await problem(await hall.client.get(f"/api/v1/tickets/{uuid.uuid4()}/qr.svg"), 404)
    for path, marker in [
        (f"/kiosk/{hall.branch}", "Ambil Nomor Antrian"),
        ("/counter", "Konsol Loket"),
        (f"/t/{ticket['id']}", "Survei Kepuasan Masyarakat"),
        ("/static/common.css", "--hijau"),
    ]:
        resp = await hall.client.get(path)
        assert resp.status == 200, path
        assert marker in await resp.text()


async def test_hours_breaks_and_holidays_refuse_with_a_time_to_return(
    hall: TicketingHallKit, database_url: str
) -> None:
    branch = new_branch_id()
    weekdays = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "08:00-15:00")
    doc = hall_doc(
        branch,
        timezone="Asia/Jayapura",
        hours=weekdays,
        breaks=[{"name": "Jumatan", "days": ["fri"], "time": "11:30-13:00"}],
        holidays=[{"date": "2026-12-25", "name": "Hari Raya Natal"}],
        issuing_cutoff_minutes=30,
    )
    await seed(database_url, hall.schema, doc)
    wit = ZoneInfo("Asia/Jayapura")
    url = f"/api/v1/branches/{branch}/tickets"
    body = {"service_id": f"{branch}-ktp"}
    cases = [
        (datetime(2026, 12, 4, 12, 0, tzinfo=wit), "break", datetime(2026, 12, 4, 13, 0, tzinfo=wit)),
        (datetime(2026, 12, 6, 9, 0, tzinfo=wit), "closed", datetime(2026, 12, 7, 8, 0, tzinfo=wit)),
        (datetime(2026, 12, 7, 14, 40, tzinfo=wit), "cutoff", datetime(2026, 12, 8, 8, 0, tzinfo=wit)),
        (datetime(2026, 12, 25, 9, 0, tzinfo=wit), "holiday", datetime(2026, 12, 28, 8, 0, tzinfo=wit)),
    ]
    for now, reason, retry in cases:
        hall.clock.now = now
        body_ = await problem(await hall.client.post(url, json=body), 409)
        assert body_["reason"] == reason
        assert datetime.fromisoformat(body_["retry_at"]) == retry
    hall.clock.now = datetime(2026, 12, 4, 13, 0, tzinfo=wit)
    assert (await hall.client.post(url, json=body)).status == 201


async def test_a_service_has_its_own_break_holiday_and_cutoff(
    hall: TicketingHallKit, database_url: str
) -> None:
    branch = new_branch_id()
    doc = hall_doc(branch, hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "08:00-15:00"))
    samsat = doc["agencies"][1]["services"][0]  # Pajak (C): the cashier closes early and counts cash at noon
    samsat.update(
        breaks=[{"name": "Setor kas", "time": "12:00-12:30"}],
        holidays=["2026-12-24"],
        issuing_cutoff_minutes=60,
    )
    await seed(database_url, hall.schema, doc)
    wita = ZoneInfo("Asia/Makassar")
    url = f"/api/v1/branches/{branch}/tickets"
    pajak, ktp = {"service_id": f"{branch}-pkb"}, {"service_id": f"{branch}-ktp"}
    cases = [
        (datetime(2026, 12, 1, 12, 10, tzinfo=wita), "break", datetime(2026, 12, 1, 12, 30, tzinfo=wita)),
        (datetime(2026, 12, 1, 14, 10, tzinfo=wita), "cutoff", datetime(2026, 12, 2, 8, 0, tzinfo=wita)),
        (datetime(2026, 12, 24, 9, 0, tzinfo=wita), "holiday", datetime(2026, 12, 25, 8, 0, tzinfo=wita)),
    ]
    for now, reason, retry in cases:
        hall.clock.now = now
        refused = await problem(await hall.client.post(url, json=pajak), 409)
        assert (refused["reason"], datetime.fromisoformat(refused["retry_at"])) == (reason, retry)
        assert (await hall.client.post(url, json=ktp)).status == 201  # the rest of the hall issues
    # Seeding the same file again keeps the rules; dropping them from the file drops them.
    await seed(database_url, hall.schema, doc)
    for key in ("breaks", "holidays", "issuing_cutoff_minutes"):
        del samsat[key]
    await seed(database_url, hall.schema, doc)
    hall.clock.now = datetime(2026, 12, 1, 12, 10, tzinfo=wita)
    assert (await hall.client.post(url, json=pajak)).status == 201
