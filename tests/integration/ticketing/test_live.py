"""The live stream: a committed change reaches an open server-sent-events stream of its branch."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.integration.ticketing.conftest import TicketingHallKit

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def _next_event(resp: Any) -> tuple[str, dict[str, Any]]:
    name, data = "message", ""
    while True:
        line = (await resp.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            return name, json.loads(data)


async def test_a_change_reaches_the_stream_of_its_branch(hall: TicketingHallKit) -> None:
    # a session of its own: the hall client checks whole bodies against the contract, and this one never ends
    url = hall.client.make_url(f"/api/v1/branches/{hall.branch}/live")
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Accept": "text/event-stream"}) as resp,
    ):
        assert resp.status == 200
        assert resp.content_type == "text/event-stream"
        assert (await asyncio.wait_for(_next_event(resp), 20))[0] == "ready"
        ticket = await (await hall.issue()).json()
        name, hint = await asyncio.wait_for(_next_event(resp), 20)
        assert name == "change"
        assert hint == {
            "branch_id": hall.branch,
            "type": "ticket.issued",
            "number": ticket["number"],
            "counter_id": None,
            "service_id": ticket["service_id"],
        }
        await hall.act(1, "open")
        name, hint = await asyncio.wait_for(_next_event(resp), 20)
        assert (hint["type"], hint["counter_id"]) == ("counter.opened", hall.counter(1))


async def test_the_stream_needs_its_media_type_and_a_known_branch(hall: TicketingHallKit) -> None:
    wrong = await hall.client.get(f"/api/v1/branches/{hall.branch}/live")
    assert wrong.status == 406
    assert wrong.content_type == "application/problem+json"
    missing = await hall.client.get("/api/v1/branches/nope/live", headers={"Accept": "text/event-stream"})
    assert missing.status == 404
