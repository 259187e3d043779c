"""hall.configured and hall.announcement on the hall screen (the pure fold)."""

from __future__ import annotations

from services.display.screen import BranchScreen, apply
from services.events import EventType
from tests.unit.display.test_screen import TODAY, BranchEvents


def test_an_announcement_reaches_the_screens_with_its_text_and_mode() -> None:
    hall = BranchEvents()
    event = hall._emit(EventType.HALL_ANNOUNCEMENT, "bjb", {"text": "Loket 3 tutup 14.00", "mode": "marquee"})
    screen = BranchScreen("bjb")
    change = apply(screen, event, today=TODAY)
    assert change is not None
    assert change.message["type"] == "hall.announcement"
    assert change.message["hall_announcement"] == {
        "text": "Loket 3 tutup 14.00",
        "mode": "marquee",
        "until": None,
    }
    assert screen.seq == 1


def test_a_configuration_change_is_passed_on_and_keeps_the_sequence() -> None:
    hall = BranchEvents()
    hall.ticket(EventType.TICKET_ISSUED, "A001")
    configured = hall._emit(
        EventType.HALL_CONFIGURED,
        "c9",
        {"kind": "counter", "action": "created", "id": "c9", "fields": ["name"]},
    )
    screen = BranchScreen("bjb")
    apply(screen, hall.events[0], today=TODAY)
    change = apply(screen, configured, today=TODAY)
    assert change is not None
    assert change.message["type"] == "hall.configured"
    assert change.message["waiting"]["total"] == 1
    assert screen.seq == 2
