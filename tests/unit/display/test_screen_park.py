"""The hall screen folds parking, returning and reactivating a ticket."""

from __future__ import annotations

from services.events import EventType
from tests.unit.display.test_screen import BranchEvents, _fold


def test_a_parked_ticket_shows_parked_and_waits_again_when_it_returns() -> None:
    hall = BranchEvents()
    hall.counter(EventType.COUNTER_OPENED, "3")
    hall.ticket(EventType.TICKET_ISSUED, "A001")
    hall.ticket(EventType.TICKET_CALLED, "A001", "3")
    parked = hall.ticket(EventType.TICKET_PARKED, "A001", "3")
    screen = _fold(hall.events)
    assert screen.counters["c3"].ticket_status == "parked"
    assert "t-A001" not in screen.waiting
    hall.ticket(EventType.TICKET_RETURNED, "A001")
    screen = _fold(hall.events)
    assert screen.waiting["t-A001"] == ("ktp", "disdukcapil")
    assert screen.seq == parked.sequence + 1


def test_a_reactivated_no_show_waits_again_and_a_new_call_takes_it() -> None:
    hall = BranchEvents()
    hall.counter(EventType.COUNTER_OPENED, "3")
    hall.ticket(EventType.TICKET_ISSUED, "A001")
    hall.ticket(EventType.TICKET_CALLED, "A001", "3")
    hall.ticket(EventType.TICKET_NO_SHOW, "A001", "3")
    hall.ticket(EventType.TICKET_REACTIVATED, "A001")
    assert _fold(hall.events).waiting["t-A001"] == ("ktp", "disdukcapil")
    hall.ticket(EventType.TICKET_CALLED, "A001", "3")
    screen = _fold(hall.events)
    assert "t-A001" not in screen.waiting
    assert screen.counters["c3"].ticket_status == "called"
    assert [call.number for call in screen.calls] == ["A001", "A001"]
