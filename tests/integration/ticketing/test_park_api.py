"""Park and return, no-show reactivation through the real API and PostgreSQL.

The store is held to the pure rules (tests/unit/ticketing/test_park.py): a
returned ticket goes back to its original place, a parked or reactivated
ticket is never called by two counters at once, the housekeeping pass turns
an expired park into a no-show, and bad input is a 4xx problem.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import pytest

from services.ticketing.domain.lifecycle import ReturnWindow
from services.ticketing.housekeeping import expire_parked
from services.ticketing.keys import POOL
from tests.integration.ticketing.conftest import TicketingHallKit

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def _post(hall: TicketingHallKit, path: str, user: str) -> Any:
    token = await hall.token(user)
    return await hall.client.post(path, headers={"Authorization": f"Bearer {token}"})


async def _ticket(hall: TicketingHallKit, ticket_id: str) -> dict[str, Any]:
    resp = await hall.client.get(f"/api/v1/tickets/{ticket_id}")
    assert resp.status == 200
    result: dict[str, Any] = await resp.json()
    return result


async def test_a_parked_ticket_returns_to_its_original_place(hall: TicketingHallKit) -> None:
    first = await (await hall.issue()).json()
    hall.clock.advance(seconds=30)
    later = [await (await hall.issue()).json() for _ in range(3)]
    await hall.act(1, "open")
    called = await (await hall.act(1, "call-next")).json()
    assert called["id"] == first["id"]
    parked = await hall.act(1, "park")
    assert parked.status == 200, await parked.text()
    assert (await parked.json())["status"] == "parked"
    # the counter is free: it calls the next one while the first citizen is away
    assert (await (await hall.act(1, "call-next")).json())["id"] == later[0]["id"]
    await hall.act(1, "start")
    await hall.act(1, "complete")
    back = await _post(hall, f"/api/v1/tickets/{first['id']}/return", f"{hall.branch}-op2")
    assert back.status == 200, await back.text()
    body = await back.json()
    assert body["status"] == "waiting"
    assert body["position"] == 1, "back at its original place, ahead of everyone who came later"
    assert body["issued_at"] == first["issued_at"]
    # counter 2 serves the same service: it takes the returned ticket first
    await hall.act(2, "open")
    again = await (await hall.act(2, "call-next")).json()
    assert again["id"] == first["id"]
    assert again["recall_count"] == 0


async def test_return_and_reactivate_windows(hall: TicketingHallKit) -> None:
    window = ReturnWindow()  # the settings' defaults: 15 and 10 minutes
    ticket = await (await hall.issue()).json()
    await hall.act(1, "open")
    await hall.act(1, "call-next")
    await hall.act(1, "park")
    hall.clock.advance(minutes=window.park_minutes, seconds=1)
    late = await _post(hall, f"/api/v1/tickets/{ticket['id']}/return", f"{hall.branch}-op1")
    assert late.status == 409
    assert late.content_type == "application/problem+json"
    pool = hall.client.server.app[POOL]
    assert await expire_parked(pool, hall.clock(), window) == 1
    assert await expire_parked(pool, hall.clock(), window) == 0, "a second pass changes nothing"
    assert (await _ticket(hall, ticket["id"]))["status"] == "no_show"
    # a fresh no-show may be reactivated within its window, then it waits again
    hall.clock.advance(minutes=window.reactivate_minutes - 1)
    ok = await _post(hall, f"/api/v1/tickets/{ticket['id']}/reactivate", f"{hall.branch}-op1")
    assert ok.status == 200, await ok.text()
    assert (await ok.json())["status"] == "waiting"
    await hall.act(1, "call-next")
    hall.clock.advance(minutes=2)
    await hall.act(1, "recall")
    assert (await hall.act(1, "no-show")).status == 200
    hall.clock.advance(minutes=window.reactivate_minutes, seconds=1)
    old = await _post(hall, f"/api/v1/tickets/{ticket['id']}/reactivate", f"{hall.branch}-op1")
    assert old.status == 409


async def test_a_returned_ticket_is_never_called_by_two_counters(hall: TicketingHallKit) -> None:
    for _ in range(5):
        ticket = await (await hall.issue()).json()
        await hall.act(1, "open")
        await hall.act(2, "open")
        called = await (await hall.act(1, "call-next")).json()
        assert called["id"] == ticket["id"]
        await hall.act(1, "park")
        await _post(hall, f"/api/v1/tickets/{ticket['id']}/return", f"{hall.branch}-op1")
        one, two = await asyncio.gather(hall.act(1, "call-next"), hall.act(2, "call-next"))
        statuses = sorted([one.status, two.status])
        assert statuses == [200, 204], statuses
        winner = 1 if one.status == 200 else 2
        assert (await (one if winner == 1 else two).json())["id"] == ticket["id"]
        await hall.act(winner, "start")
        await hall.act(winner, "complete")


async def test_random_days_keep_every_ticket_at_one_counter_at_most(hall: TicketingHallKit) -> None:
    rng = random.Random(12)
    ids: list[str] = []
    await hall.act(1, "open")
    await hall.act(2, "open")
    for _ in range(60):
        hall.clock.advance(seconds=rng.choice([5, 30, 90]))
        move = rng.choice(
            ["issue", "call", "park", "return", "start", "complete", "recall", "no-show", "react"]
        )
        n = rng.choice([1, 2])
        if move == "issue":
            ids.append((await (await hall.issue()).json())["id"])
        elif move == "call":
            await hall.act(n, "call-next")
        elif move in ("park", "start", "complete", "recall", "no-show"):
            await hall.act(n, move)
        elif ids:
            path = "return" if move == "return" else "reactivate"
            resp = await _post(hall, f"/api/v1/tickets/{rng.choice(ids)}/{path}", f"{hall.branch}-op{n}")
            assert resp.status in (200, 409), await resp.text()
        pool = hall.client.server.app[POOL]
        rows = await pool.fetch("SELECT active_ticket_id FROM counters WHERE active_ticket_id IS NOT NULL")
        active = [row["active_ticket_id"] for row in rows]
        assert len(active) == len(set(active)), "a ticket held by two counters"
        held = await pool.fetch(
            "SELECT id, status FROM tickets WHERE status IN ('called', 'serving') AND branch_id = $1",
            hall.branch,
        )
        assert {row["id"] for row in held} == set(active), (
            "an active ticket without its counter, or the reverse"
        )


async def test_the_counter_queue_and_console(hall: TicketingHallKit) -> None:
    tickets = [await (await hall.issue(priority=p)).json() for p in (False, True, False)]
    await hall.act(1, "open")
    token = await hall.token(f"{hall.branch}-op1")
    auth = {"Authorization": f"Bearer {token}"}
    queue = await (await hall.client.get(f"/api/v1/counters/{hall.counter(1)}/queue", headers=auth)).json()
    assert [item["number"] for item in queue["items"]] == [
        tickets[1]["number"],
        tickets[0]["number"],
        tickets[2]["number"],
    ]
    assert queue["items"][0]["priority"] is True
    assert queue["waiting"] == 3
    await hall.act(1, "call-next")
    state = await (await hall.client.get(f"/api/v1/counters/{hall.counter(1)}/console", headers=auth)).json()
    assert state["active"]["id"] == tickets[1]["id"]
    assert state["no_show_allowed_at"] is not None
    await hall.act(1, "park")
    queue = await (await hall.client.get(f"/api/v1/counters/{hall.counter(1)}/queue", headers=auth)).json()
    assert [item["number"] for item in queue["back_soon"]] == [tickets[1]["number"]]
    assert queue["back_soon"][0]["status"] == "parked"


@pytest.mark.parametrize(
    ("path", "user", "status"),
    [
        ("/api/v1/tickets/{missing}/return", "op1", 404),
        ("/api/v1/tickets/not-a-uuid/return", "op1", 404),
        ("/api/v1/tickets/{ticket}/return", "op1", 409),
        ("/api/v1/tickets/{ticket}/reactivate", "op1", 409),
        ("/api/v1/tickets/{ticket}/return", "op3", 403),
        ("/api/v1/tickets/{ticket}/return", None, 401),
        ("/api/v1/counters/{counter}/park", "op1", 409),
        ("/api/v1/counters/{counter}/park", "op2", 403),
        ("/api/v1/counters/nope/park", "op1", 404),
    ],
)
async def test_bad_requests_are_problems(
    hall: TicketingHallKit, path: str, user: str | None, status: int
) -> None:
    ticket = await (await hall.issue()).json()
    await hall.act(1, "open")
    url = path.format(missing=uuid.uuid4(), ticket=ticket["id"], counter=hall.counter(1))
    headers = {}
    if user is not None:
        headers["Authorization"] = f"Bearer {await hall.token(f'{hall.branch}-{user}')}"
    resp = await hall.client.post(url, headers=headers)
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"


async def test_a_pause_carries_its_reason(hall: TicketingHallKit) -> None:
    await hall.act(1, "open")
    bad = await hall.act(1, "pause", json={"reason": "tidur"})
    assert bad.status == 422
    assert bad.content_type == "application/problem+json"
    assert (await hall.act(1, "pause", json={"reason": "sholat"})).status == 200
    auth = {"Authorization": f"Bearer {await hall.token(f'{hall.branch}-op1')}"}
    state = await (await hall.client.get(f"/api/v1/counters/{hall.counter(1)}/console", headers=auth)).json()
    assert state["counter"]["status"] == "paused"
    assert state["counter"]["pause_reason"] == "sholat"
    await hall.act(1, "open")
    state = await (await hall.client.get(f"/api/v1/counters/{hall.counter(1)}/console", headers=auth)).json()
    assert state["counter"]["pause_reason"] is None
