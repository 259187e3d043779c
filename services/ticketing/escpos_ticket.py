"""The printed ticket as ESC/POS commands, for a thermal printer (``python-escpos``).

:func:`render` draws a ticket onto any printer object of the library (USB,
network, file or the in-memory ``Dummy``); :func:`ticket_bytes` returns the
bytes for a print agent. The QR code is the printer's own (``GS ( k``), so it
is sharp at any roll width.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos
from escpos.printer import Dummy

QR_SIZE = 6
"""Module size in dots: about 30 mm for a page link, readable by any phone."""


@dataclass(frozen=True, slots=True)
class PrintedTicket:
    """What a printed ticket says."""

    hall_name: str
    agency_name: str
    service_name: str
    number: str
    issued_local: datetime
    people_ahead: int
    estimated_wait_seconds: int
    page_url: str
    priority: bool = False


def wait_text(seconds: int) -> str:
    """The estimated wait in Indonesian words."""
    if seconds < 60:
        return "kurang dari 1 menit"
    return f"sekitar {round(seconds / 60)} menit"


def from_ticket(ticket: Mapping[str, Any], hall_name: str, timezone: str, page_url: str) -> PrintedTicket:
    """The printed ticket of an API ticket view."""
    issued = datetime.fromisoformat(str(ticket["issued_at"])).astimezone(ZoneInfo(timezone))
    return PrintedTicket(
        hall_name=hall_name,
        agency_name=str(ticket["agency_name"]),
        service_name=str(ticket["service_name"]),
        number=str(ticket["number"]),
        issued_local=issued,
        people_ahead=max(int(ticket["position"]) - 1, 0),
        estimated_wait_seconds=int(ticket["estimated_wait_seconds"]),
        page_url=page_url,
        priority=bool(ticket["priority"]),
    )


def render(printer: Escpos, ticket: PrintedTicket) -> None:
    """Print ``ticket`` on ``printer`` and cut the paper."""
    printer.set(align="center", bold=True)
    printer.text(ticket.hall_name + "\n")
    printer.set(align="center", bold=False, normal_textsize=True)
    printer.text(ticket.agency_name + "\n")
    printer.text(ticket.service_name + ("  (PRIORITAS)" if ticket.priority else "") + "\n")
    printer.set(align="center", bold=True, double_width=True, double_height=True)
    printer.text(ticket.number + "\n")
    printer.set(align="center", bold=False, normal_textsize=True)
    printer.text(f"{ticket.issued_local:%d-%m-%Y %H:%M}\n")
    printer.text(f"Di depan Anda: {ticket.people_ahead} orang\n")
    printer.text(f"Perkiraan menunggu: {wait_text(ticket.estimated_wait_seconds)}\n")
    printer.set(align="center")  # a native QR follows the line's alignment
    printer.qr(ticket.page_url, ec=QR_ECLEVEL_M, size=QR_SIZE, native=True)
    printer.text("Pindai untuk memantau antrian\n")
    printer.cut()


def ticket_bytes(ticket: PrintedTicket) -> bytes:
    """The ESC/POS bytes of ``ticket`` (what a print agent writes to the printer)."""
    dummy = Dummy()
    render(dummy, ticket)
    return bytes(dummy.output)
