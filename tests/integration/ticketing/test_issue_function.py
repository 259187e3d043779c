"""Issuing in one statement (migration 011): the SQL estimate, the version check, atomic refusals."""

from __future__ import annotations

import random

from services.ticketing import db
from services.ticketing.domain.estimate import average_service_seconds, estimate_wait_seconds
from tests.integration.ticketing.conftest import TicketingHallKit


def _cases(n: int) -> list[tuple[int, int, list[float], float]]:
    """Random inputs, with service times in microseconds as ``extract(epoch ...)`` gives them."""
    rng = random.Random(20261129)
    cases = []
    for _ in range(n):
        recent = [round(rng.uniform(-30, 3600), 6) for _ in range(rng.randint(0, 20))]
        cases.append((rng.randint(-1, 400), rng.randint(0, 12), recent, float(rng.randint(30, 3600))))
    return cases


async def test_the_sql_estimate_is_the_domain_estimate(database_url: str, hall: TicketingHallKit) -> None:
    """``wait_estimate`` (SQL) answers exactly what ``domain/estimate.py`` answers, input by input."""
    cases = _cases(400)
    conn = await db.connect(database_url, hall.schema)
    try:
        got = [
            await conn.fetchval("SELECT wait_estimate($1, $2, $3, $4)", ahead, counters, recent, expected)
            for ahead, counters, recent, expected in cases
        ]
    finally:
        await conn.close()
    wanted = [
        estimate_wait_seconds(ahead, counters, average_service_seconds(recent, expected))
        for ahead, counters, recent, expected in cases
    ]
    assert got == wanted
    assert len(set(wanted)) > 100  # the cases are not all alike


async def test_a_change_made_behind_the_process_shows_in_the_next_ticket(
    database_url: str, hall: TicketingHallKit
) -> None:
    """The process keeps a service's rows; a change written by anyone reaches the next ticket."""
    first = await hall.issue("ktp")
    assert first.status == 201, await first.text()
    assert (await first.json())["agency_name"] == "Disdukcapil"
    conn = await db.connect(database_url, hall.schema)
    try:
        await conn.execute(
            "UPDATE agencies SET name = 'Dukcapil Kota' WHERE id = $1", f"{hall.branch}-dukcapil"
        )
        await conn.execute(
            "UPDATE services SET name = 'KTP elektronik', prefix = 'K' WHERE id = $1", hall.service("ktp")
        )
    finally:
        await conn.close()
    second = await hall.issue("ktp")
    assert second.status == 201, await second.text()
    ticket = await second.json()
    assert (ticket["agency_name"], ticket["service_name"], ticket["number"]) == (
        "Dukcapil Kota",
        "KTP elektronik",
        "K002",
    )


async def test_a_refused_ticket_writes_nothing(database_url: str, hall: TicketingHallKit) -> None:
    """Past the quota (3 for ``kk``) nothing is written: no number taken, no ticket, no event."""
    numbers = [(await (await hall.issue("kk")).json())["number"] for _ in range(3)]
    assert numbers == ["B001", "B002", "B003"]
    conn = await db.connect(database_url, hall.schema)
    try:
        before = await conn.fetchval("SELECT count(*) FROM outbox")
        assert (await hall.issue("kk")).status == 409
        assert (await hall.issue("kk")).status == 409
        assert await conn.fetchval("SELECT count(*) FROM outbox") == before
        assert (
            await conn.fetchval(
                "SELECT last_number FROM daily_numbers WHERE service_id = $1", hall.service("kk")
            )
            == 3
        )
        assert (
            await conn.fetchval("SELECT count(*) FROM tickets WHERE service_id = $1", hall.service("kk")) == 3
        )
    finally:
        await conn.close()
    assert (await (await hall.issue("ktp")).json())["number"] == "A001"  # the rest of the hall issues
