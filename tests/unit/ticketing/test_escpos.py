"""The printed ticket as ESC/POS bytes, on python-escpos' Dummy printer.

The bytes must carry the number and the printer's own QR command (``GS ( k``);
the QR's stored text, drawn by segno and read back by zxing-cpp, is the link
to the citizen's page.
"""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import segno
import zxingcpp
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from services.ticketing.escpos_ticket import PrintedTicket, from_ticket, render, ticket_bytes

URL = "http://127.0.0.1:8080/t/693d7591-4853-45da-9b29-38ccb8a9f8b2"
TICKET = PrintedTicket(
    hall_name="MPP Kota Banjarbaru",
    agency_name="Disdukcapil",
    service_name="Akta Kelahiran",
    number="AKL012",
    issued_local=datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Asia/Makassar")),
    people_ahead=4,
    estimated_wait_seconds=1500,
    page_url=URL,
)
QR_STORE = re.compile(rb"\x1d\(k(..)\x31\x50\x30", re.DOTALL)


def qr_payloads(data: bytes) -> list[bytes]:
    """The texts stored by every ``GS ( k`` 'store data' (fn 80) command in ``data``."""
    out = []
    for match in QR_STORE.finditer(data):
        length = match.group(1)[0] + 256 * match.group(1)[1] - 3
        out.append(data[match.end() : match.end() + length])
    return out


def decode(text: str) -> list[str]:
    png = io.BytesIO()
    segno.make_qr(text, error="m").save(png, kind="png", scale=4, border=4)
    image = Image.open(io.BytesIO(png.getvalue())).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_the_bytes_carry_the_number_the_details_and_a_native_qr() -> None:
    data = ticket_bytes(TICKET)
    assert b"AKL012" in data
    assert b"MPP Kota Banjarbaru" in data
    assert b"Akta Kelahiran" in data
    assert b"01-12-2026 09:30" in data
    assert b"4 orang" in data
    assert b"sekitar 25 menit" in data
    assert b"\x1d(k" in data  # GS ( k: the printer draws the QR code
    assert data.rstrip().endswith(b"\x1dV\x00") or b"\x1dV" in data  # and cuts the paper


def test_the_qr_text_decodes_to_the_citizen_page() -> None:
    (payload,) = qr_payloads(ticket_bytes(TICKET))
    assert payload.decode() == URL
    assert decode(payload.decode()) == [URL]


def test_render_works_on_any_printer_object() -> None:
    printer = Dummy()
    render(printer, TICKET)
    assert bytes(printer.output) == ticket_bytes(TICKET)


def test_an_api_ticket_becomes_a_printed_ticket_in_the_halls_time_zone() -> None:
    api = {
        "agency_name": "Samsat",
        "service_name": "Pajak",
        "number": "C001",
        "issued_at": "2026-12-01T01:30:00Z",
        "position": 1,
        "estimated_wait_seconds": 0,
        "priority": True,
    }
    printed = from_ticket(api, "Hall", "Asia/Makassar", URL)
    assert printed.issued_local.hour == 9
    assert printed.people_ahead == 0
    data = ticket_bytes(printed)
    assert b"PRIORITAS" in data
    assert b"kurang dari 1 menit" in data


@settings(max_examples=25, deadline=None)
@given(st.uuids(), st.sampled_from(["http://127.0.0.1:8080", "https://antrian.example.go.id"]))
def test_any_ticket_link_round_trips_through_the_printer_command(ticket_id: object, base: str) -> None:
    url = f"{base}/t/{ticket_id}"
    (payload,) = qr_payloads(ticket_bytes(dataclasses.replace(TICKET, page_url=url)))
    assert decode(payload.decode()) == [url]
