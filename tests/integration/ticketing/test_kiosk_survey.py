"""The desk survey code on a real app and database: what it rates, one answer per ticket, bad input."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.integration.ticketing.conftest import TicketingHallKit
from tests.integration.ticketing.test_api import outbox_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SCORES = [4, 3, 4, 4, 3, 4, 4, 3, 4]
PROFILE = {"sex": "perempuan", "age_group": "30_39", "education": "s1", "occupation": "wirausaha"}


async def serve_one(hall: TicketingHallKit, n: int = 1) -> dict[str, Any]:
    ticket = await (await hall.issue("ktp")).json()
    for action in ("open", "call-next", "start", "complete"):
        resp = await hall.act(n, action)
        assert resp.status in (200, 409), await resp.text()  # "open" twice is a 409
    return dict(ticket)


async def target(hall: TicketingHallKit, n: int = 1) -> dict[str, Any]:
    resp = await hall.client.get(f"/api/v1/counters/{hall.counter(n)}/survey")
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def answer(hall: TicketingHallKit, n: int = 1, **body: Any) -> Any:
    return await hall.client.post(
        f"/api/v1/counters/{hall.counter(n)}/survey", json={"scores": SCORES, **body}
    )


async def test_the_desk_code_rates_the_latest_ticket_once_then_the_desk(
    hall: TicketingHallKit, database_url: str
) -> None:
    empty = await target(hall)
    assert (empty["ticket_id"], empty["counter_name"]) == (None, "Loket 1")
    ticket = await serve_one(hall)
    now = await target(hall)
    assert (now["ticket_id"], now["number"], now["service_name"]) == (
        ticket["id"],
        ticket["number"],
        "KTP-el",
    )
    saran = "Antrian cepat.\nTolong tambah kursi."
    resp = await answer(hall, ticket_id=ticket["id"], respondent=PROFILE, saran=saran)
    assert resp.status == 201, await resp.text()
    receipt = await resp.json()
    assert (receipt["ticket_id"], receipt["counter_id"]) == (ticket["id"], hall.counter(1))
    again = await answer(hall, ticket_id=ticket["id"])
    assert again.status == 409
    # Also refused on the ticket page: one answer per ticket, whichever way it came.
    page = await hall.client.post(f"/api/v1/tickets/{ticket['id']}/survey", json={"scores": SCORES})
    assert page.status == 409
    assert (await target(hall))["ticket_id"] is None  # rated: the code now rates the desk
    desk = await answer(hall, saran="Ruang tunggu dingin")
    assert desk.status == 201
    assert (await desk.json())["ticket_id"] is None

    surveys = [e for e in await outbox_events(hall, database_url) if e["type"] == "survey.submitted"]
    assert len(surveys) == 1  # the desk's own answer has no ticket and is not an IKM event
    data = surveys[0]["data"]
    assert (data["ticket_id"], data["counter_id"], data["via"]) == (ticket["id"], hall.counter(1), "desk")
    assert data["respondent"] == PROFILE
    assert data["saran"] == saran
    assert data["scores"] == SCORES

    conn = await asyncpg.connect(database_url, server_settings={"search_path": hall.schema})
    try:
        rows = await conn.fetch("SELECT ticket_id, counter_id, sex, saran FROM surveys ORDER BY submitted_at")
    finally:
        await conn.close()
    assert [(r["counter_id"], r["sex"]) for r in rows] == [
        (hall.counter(1), "perempuan"),
        (hall.counter(1), None),
    ]
    assert rows[1]["ticket_id"] is None


async def test_the_window_and_the_counter_bound_what_a_desk_may_rate(hall: TicketingHallKit) -> None:
    ticket = await serve_one(hall)
    hall.clock.advance(minutes=16)  # past the 15-minute window
    assert (await target(hall))["ticket_id"] is None
    assert (await answer(hall, ticket_id=ticket["id"])).status == 409
    hall.clock.advance(minutes=-16)
    # Another desk cannot rate it.
    assert (await answer(hall, 2, ticket_id=ticket["id"])).status == 409
    # A waiting ticket cannot be rated.
    waiting = await (await hall.issue("ktp")).json()
    assert (await answer(hall, ticket_id=waiting["id"])).status == 409
    assert (await answer(hall, ticket_id=ticket["id"])).status == 201


@pytest.mark.parametrize(
    "body",
    [
        {"scores": SCORES[:8]},
        {"scores": [*SCORES[:8], 5]},
        {"scores": SCORES, "saran": "x" * 1001},
        {"scores": SCORES, "saran": "halo\x07"},
        {"scores": SCORES, "saran": "a\x00b"},
        {"scores": SCORES, "respondent": {"sex": "x"}},
        {"scores": SCORES, "respondent": {"age_group": 30}},
        {"scores": SCORES, "ticket_id": "not-a-uuid"},
    ],
)
async def test_bad_answers_are_422_problems(hall: TicketingHallKit, body: dict[str, Any]) -> None:
    resp = await hall.client.post(f"/api/v1/counters/{hall.counter(1)}/survey", json=body)
    assert resp.status == 422, await resp.text()
    assert resp.content_type == "application/problem+json"


async def test_unknown_counters_and_the_printable_sign(hall: TicketingHallKit) -> None:
    assert (await hall.client.get("/api/v1/counters/nope/survey")).status == 404
    assert (await hall.client.post("/api/v1/counters/nope/survey", json={"scores": SCORES})).status == 404
    assert (await hall.client.get("/counter/nope/survey-sign")).status == 404
    assert (await hall.client.get("/counter/NOPE!/survey-sign")).status == 404
    sign = await hall.client.get(f"/counter/{hall.counter(3)}/survey-sign")
    assert sign.status == 200
    text = await sign.text()
    assert "Loket 3" in text
    assert "<svg" in text
    assert f"/survey/desk/{hall.counter(3)}" in text
    for path in (f"/survey/desk/{hall.counter(3)}", "/static/survey.css", "/static/survey.js"):
        assert (await hall.client.get(path)).status == 200
