"""The SQL call-next order equals the pure reference choice, ticket for ticket."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from services.ticketing.domain.calling import Candidate, choose_next, next_streak
from tests.integration.ticketing.conftest import TicketingHallKit

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.mark.parametrize("seed", [1, 2])
async def test_drain_order_matches_the_reference(hall: TicketingHallKit, seed: int) -> None:
    rng = random.Random(seed)
    services = [hall.service("ktp"), hall.service("kk")]  # counter 1 serves both, in this order
    waiting: list[Candidate] = []
    kk_left = 3  # the test hall's kk quota
    for _ in range(24):
        hall.clock.advance(seconds=rng.choice([0, 1, 5, 30]))  # 0: a tie in queued_at, the number decides
        use_kk = kk_left > 0 and rng.random() < 0.3
        kk_left -= use_kk
        body = {"priority": rng.random() < 0.4}
        ticket = await (await hall.issue("kk" if use_kk else "ktp", **body)).json()
        waiting.append(
            Candidate(
                ticket["id"],
                ticket["service_id"],
                ticket["priority"],
                datetime.fromisoformat(ticket["issued_at"]),
                ticket["number"],
            )
        )
    await hall.act(1, "open")
    streak, expected, actual = 0, [], []
    while (pick := choose_next(waiting, services, priority_streak=streak, max_priority_streak=2)) is not None:
        waiting.remove(pick)
        expected.append(pick.ticket_id)
        streak = next_streak(streak, called_priority=pick.priority)
        called = await (await hall.act(1, "call-next")).json()
        actual.append(called["id"])
        await hall.act(1, "start")
        await hall.act(1, "complete")
    assert (await hall.act(1, "call-next")).status == 204
    assert actual == expected
