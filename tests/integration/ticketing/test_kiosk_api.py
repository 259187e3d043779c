"""The kiosk's routes on a real app and database: the board, the search, the ESC/POS ticket, the pages."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.ticketing import printagent
from services.ticketing.domain.numbering import quota_allows
from tests.integration.ticketing.conftest import TicketingHallKit, admin_auth
from tests.unit.ticketing.test_escpos import decode, qr_payloads

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def board(hall: TicketingHallKit) -> dict[str, dict[str, object]]:
    resp = await hall.client.get(f"/api/v1/branches/{hall.branch}/kiosk")
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert data["name"] == f"Test hall {hall.branch}"
    return {s["service_id"]: s for s in data["services"]}


async def test_the_board_shows_waiting_counts_waits_and_issuing_state(hall: TicketingHallKit) -> None:
    before = await board(hall)
    assert set(before) == {hall.service("ktp"), hall.service("kk"), hall.service("pkb")}
    assert all(s["issuing"]["state"] == "open" for s in before.values())
    for _ in range(2):
        assert (await hall.issue("ktp")).status == 201
    after = await board(hall)
    ktp = after[hall.service("ktp")]
    assert ktp["waiting"] == 2
    # Two ahead of a new ticket, 5 minutes each, no counter open (one assumed).
    assert ktp["estimated_wait_seconds"] == 600
    # The next ticket's own estimate agrees with what the board promised.
    issued = await (await hall.issue("ktp")).json()
    assert issued["estimated_wait_seconds"] == ktp["estimated_wait_seconds"]


async def test_a_used_up_quota_is_shown_closed_before_the_tap_with_the_same_retry_at(
    hall: TicketingHallKit,
) -> None:
    for _ in range(3):  # Kartu Keluarga's quota is 3
        assert (await hall.issue("kk")).status == 201
    kk = (await board(hall))[hall.service("kk")]
    assert kk["issuing"]["state"] == "closed"
    assert kk["issuing"]["reason"] == "quota"
    refused = await hall.issue("kk")
    assert refused.status == 409
    problem = await refused.json()
    assert problem["reason"] == "quota"
    shown = datetime.fromisoformat(kk["issuing"]["retry_at"])
    assert shown == datetime.fromisoformat(problem["retry_at"])
    assert kk["issuing"]["detail"] == problem["detail"]
    assert not quota_allows(4, 3)


async def test_search_finds_services_with_typos_and_refuses_bad_queries(hall: TicketingHallKit) -> None:
    path = f"/api/v1/branches/{hall.branch}/services/search"
    found = await (await hall.client.get(path, params={"q": "kartu kluarga"})).json()
    assert found["items"][0]["service_id"] == hall.service("kk")
    assert found["items"][0]["agency_name"] == "Disdukcapil"
    found = await (await hall.client.get(path, params={"q": "mau bayar pajak"})).json()
    assert found["items"][0]["service_id"] == hall.service("pkb")
    assert (await (await hall.client.get(path, params={"q": "qqqqzzz"})).json())["items"] == []
    for bad in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "ktp\x01"}):
        resp = await hall.client.get(path, params=bad)
        assert resp.status == 422, bad
        assert resp.content_type == "application/problem+json"
    resp = await hall.client.get("/api/v1/branches/nope/services/search", params={"q": "ktp"})
    assert resp.status == 404
    assert (await hall.client.get("/api/v1/branches/NOPE!/kiosk")).status == 404


async def test_the_escpos_ticket_carries_the_number_and_a_qr_of_the_citizen_page(
    hall: TicketingHallKit,
) -> None:
    ticket = await (await hall.issue("ktp")).json()
    resp = await hall.client.get(f"/api/v1/tickets/{ticket['id']}/escpos")
    assert resp.status == 200
    assert resp.content_type == "application/octet-stream"
    data = await resp.read()
    assert ticket["number"].encode() in data
    assert f"Test hall {hall.branch}".encode() in data
    assert b"\x1d(k" in data
    (payload,) = qr_payloads(data)
    url = payload.decode()
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/t/{ticket['id']}", url)
    assert decode(url) == [url]
    assert (await hall.client.get("/api/v1/tickets/not-a-uuid/escpos")).status == 404
    missing = "/api/v1/tickets/00000000-0000-4000-8000-000000000000/escpos"
    assert (await hall.client.get(missing)).status == 404


async def test_the_print_page_and_its_files_are_served(hall: TicketingHallKit) -> None:
    for path, media in (
        ("/print/anything", "text/html"),
        ("/static/print.css", "text/css"),
        ("/static/print.js", "text/javascript"),
    ):
        resp = await hall.client.get(path)
        assert resp.status == 200, path
        assert resp.content_type == media
    await admin_auth(hall.client)
    assert datetime.now(UTC)


async def test_the_print_agent_sends_the_ticket_to_a_device_file_and_a_network_printer(
    hall: TicketingHallKit, tmp_path: Path
) -> None:
    ticket = await (await hall.issue("ktp")).json()
    base = str(hall.client.make_url("")).rstrip("/")
    device = tmp_path / "lp0"
    device.touch()
    code = await asyncio.to_thread(
        printagent.main, ["--url", base, "--ticket", ticket["id"], "--device", str(device)]
    )
    assert code == 0
    expected = await (await hall.client.get(f"/api/v1/tickets/{ticket['id']}/escpos")).read()
    assert device.read_bytes() == expected

    received = bytearray()
    done = asyncio.Event()

    async def printer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.extend(await reader.read())
        writer.close()
        done.set()

    server = await asyncio.start_server(printer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        args = ["--url", base, "--ticket", ticket["id"], "--host", "127.0.0.1", "--port", str(port)]
        assert await asyncio.to_thread(printagent.main, args) == 0
        await asyncio.wait_for(done.wait(), 20)
    finally:
        server.close()
    assert bytes(received) == expected
    missing = ["--url", base, "--ticket", "00000000-0000-4000-8000-000000000000", "--device", str(device)]
    assert await asyncio.to_thread(printagent.main, missing) == 1
