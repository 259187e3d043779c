"""Reminders and "3 more before you" through the webhook adapter, against real processes.

A test receiver (an aiohttp server) plays the WhatsApp/SMS gateway: it checks
each body's HMAC-SHA256 signature, can refuse the first deliveries (500) to
prove the retries, and records what arrived. Time passing is simulated by
making a planned reminder due in the database; everything else is real:
ticketing as a process, PostgreSQL, a restart in the middle.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from tests.integration.conftest import Stack, StackStarter, free_port

pytestmark = pytest.mark.timeout(240)

HALL = Path(__file__).resolve().parents[3] / "deploy" / "halls" / "jakarta-small.yaml"
SECRET = "test-webhook-secret"
JAKARTA = ZoneInfo("Asia/Jakarta")


class Receiver:
    """The gateway: records signed deliveries, failing the first ``fail[kind]`` of each kind."""

    def __init__(self) -> None:
        self.delivered: list[dict[str, Any]] = []
        self.refused: Counter[str] = Counter()
        self.fail: Counter[str] = Counter()
        self.arrived = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Antrian-Signature", ""), expected):
            return web.Response(status=401)
        payload = json.loads(body)
        if self.fail[payload["kind"]] > 0:
            self.fail[payload["kind"]] -= 1
            self.refused[payload["kind"]] += 1
            return web.Response(status=500)
        async with self.arrived:
            self.delivered.append(payload)
            self.arrived.notify_all()
        return web.Response(status=204)

    def kinds(self) -> Counter[str]:
        return Counter(p["kind"] for p in self.delivered)

    async def wait_for(self, kind: str) -> dict[str, Any]:
        async with asyncio.timeout(90), self.arrived:
            await self.arrived.wait_for(lambda: self.kinds()[kind] > 0)
        return next(p for p in self.delivered if p["kind"] == kind)


@pytest.fixture
async def receiver() -> Any:
    gateway = Receiver()
    app = web.Application()
    app.router.add_post("/hook", gateway.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gateway.url = f"http://127.0.0.1:{port}/hook"  # type: ignore[attr-defined]
    yield gateway
    await runner.cleanup()


async def _db(stack: Stack) -> asyncpg.Connection:
    schema = stack.env["TICKETING_DB_SCHEMA"]
    return await asyncpg.connect(stack.env["DATABASE_URL"], server_settings={"search_path": schema})


async def _post(http: aiohttp.ClientSession, url: str, body: Any = None, **kw: Any) -> Any:
    async with http.post(url, json=body, **kw) as resp:
        assert resp.status in (200, 201), await resp.text()
        return await resp.json()


async def _slot(http: aiohttp.ClientSession, stack: Stack, service: str, day: str, after: datetime) -> str:
    url = stack.url("ticketing", f"/api/v1/services/{service}/slots?date={day}")
    async with http.get(url) as resp:
        items = (await resp.json())["items"]
    return str(
        next(i["start"] for i in items if datetime.fromisoformat(i["start"]) > after and i["available"])
    )


async def _restart(stack: Stack, http: aiohttp.ClientSession) -> None:
    proc = stack.procs["ticketing"]
    proc.terminate()
    await proc.wait()
    await stack.start("ticketing")
    await stack.wait_ready(http, "ticketing")


async def test_reminders_are_sent_once_retried_and_survive_a_restart(
    start_stack: StackStarter, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKETING_WEBHOOK_URL", receiver.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("TICKETING_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TICKETING_NOTIFY_INTERVAL", "0.3")
    stack = await start_stack(HALL, services=("ticketing",))
    now = datetime.now(UTC)
    day = (now.astimezone(JAKARTA) + timedelta(days=2)).date().isoformat()
    async with aiohttp.ClientSession() as http:
        start = await _slot(http, stack, "jkt-ktp-el", day, now + timedelta(hours=25))
        body = {"service_id": "jkt-ktp-el", "slot_start": start, "name": "Siti", "phone": "081234567890"}
        code = (await _post(http, stack.url("ticketing", "/api/v1/bookings"), body))["code"]
        conn = await _db(stack)
        try:
            planned = {
                r["kind"] for r in await conn.fetch("SELECT kind FROM notifications WHERE ref = $1", code)
            }
            assert planned == {"reminder_day", "reminder_hour"}
            # the day before: the gateway refuses twice, the third attempt arrives
            receiver.fail["reminder_day"] = 2
            await conn.execute(
                "UPDATE notifications SET due_at = now(), next_attempt_at = now() WHERE ref = $1"
                " AND kind = 'reminder_day'",
                code,
            )
            day_before = await receiver.wait_for("reminder_day")
            assert day_before["code"] == code
            assert day_before["phone"] == "081234567890"
            assert receiver.refused["reminder_day"] == 2
            # the hour before falls due while ticketing is down; it goes out after the restart
            proc = stack.procs["ticketing"]
            proc.terminate()
            await proc.wait()
            await conn.execute(
                "UPDATE notifications SET due_at = now(), next_attempt_at = now() WHERE ref = $1"
                " AND kind = 'reminder_hour'",
                code,
            )
            await stack.start("ticketing")
            await stack.wait_ready(http, "ticketing")
            await receiver.wait_for("reminder_hour")
            await _restart(stack, http)  # nothing is sent twice after another restart
            await asyncio.sleep(0)  # let the receiver answer anything in flight
            rows = await conn.fetch("SELECT kind, attempts, sent_at FROM notifications WHERE ref = $1", code)
            assert {r["kind"]: r["attempts"] for r in rows} == {"reminder_day": 3, "reminder_hour": 1}
            assert all(r["sent_at"] is not None for r in rows)
            events = await conn.fetch(
                "SELECT event->'data'->>'kind' AS kind FROM outbox"
                " WHERE event_type = 'appointment.reminder_due'"
            )
            assert sorted(r["kind"] for r in events) == ["day_before", "hour_before"]
        finally:
            await conn.close()
    assert receiver.kinds() == Counter({"reminder_day": 1, "reminder_hour": 1})


async def test_three_more_before_you(
    start_stack: StackStarter, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKETING_WEBHOOK_URL", receiver.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("TICKETING_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TICKETING_NOTIFY_INTERVAL", "0.3")
    stack = await start_stack(HALL, services=("ticketing",))
    now = datetime.now(UTC)
    api = stack.url("ticketing", "/api/v1")
    async with aiohttp.ClientSession() as http:
        # the next slot starts within 30 minutes: its check-in window is open
        start = await _slot(http, stack, "jkt-kk", now.astimezone(JAKARTA).date().isoformat(), now)
        if datetime.fromisoformat(start) - now > timedelta(minutes=29):
            pytest.skip("the next slot starts on the half hour; check-in is not open yet")  # pragma: no cover
        body = {"service_id": "jkt-kk", "slot_start": start, "phone": "081298765432"}
        code = (await _post(http, f"{api}/bookings", body))["code"]
        for _ in range(5):  # walk-ins who came before the slot: ahead of the booking
            await _post(http, f"{api}/branches/jkt/tickets", {"service_id": "jkt-kk"})
        ticket = await _post(http, f"{api}/bookings/{code}/check-in")
        assert ticket["position"] == 6
        login = {"username": "admin", "password": stack.admin_password}
        token = (await _post(http, f"{api}/auth/login", login))["token"]
        auth = {"Authorization": f"Bearer {token}"}
        await _post(http, f"{api}/counters/jkt-loket-02/open", headers=auth)
        for _ in range(2):
            await _post(http, f"{api}/counters/jkt-loket-02/call-next", headers=auth)
            await _post(http, f"{api}/counters/jkt-loket-02/start", headers=auth)
            await _post(http, f"{api}/counters/jkt-loket-02/complete", headers=auth)
        near = await receiver.wait_for("near")
    assert near["number"] == ticket["number"]
    assert near["ahead"] == 3
    assert "3 lagi" in near["message"]
    assert receiver.kinds()["near"] == 1
