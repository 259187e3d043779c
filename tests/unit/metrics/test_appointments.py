"""Appointment events in the metrics: bookings by outcome, punctuality of calls against slots."""

from services.events import EventType, new_event
from services.events.data import AppointmentCheckedIn, AppointmentExpired, TicketNear
from services.metrics.aggregates import Increment, Observation, fold, labels
from services.metrics.reports import daily_report
from tests.unit.metrics.events import DAY, WITA, at, ticket_event

SLOT = {
    "branch_id": "bjb",
    "timezone": WITA,
    "business_date": DAY,
    "slot_date": DAY,
    "booking_code": "K7M2Q9XD",
    "service_id": "ktp",
    "service_name": "KTP",
    "agency_id": "disdukcapil",
    "slot_start": at(30),
    "slot_end": at(60),
}
QUEUE = labels(branch="bjb", agency="disdukcapil", service="ktp")


def _checked_in(late: bool = False):  # type: ignore[no-untyped-def]
    data = AppointmentCheckedIn(
        **SLOT, status="checked_in", ticket_id="t-1", number="A001", late=late, queued_at=at(30),
        checked_in_at=at(10),
    )  # fmt: skip
    return new_event(data, source="/ticketing", subject="K7M2Q9XD", time=at(10))


def _outcome(outcome: str) -> Increment:
    return Increment("qms_appointments_total", labels(**{**dict(QUEUE), "outcome": outcome}))


def test_outcomes_are_counted() -> None:
    expired = new_event(AppointmentExpired(**SLOT, status="expired"), source="/t", subject="x", time=at(50))
    assert _outcome("expired") in fold(expired, None, None).increments
    assert _outcome("checked_in_late") in fold(_checked_in(late=True), None, None).increments
    near = TicketNear(branch_id="bjb", timezone=WITA, business_date=DAY, ticket_id="t-1", number="A001",
                      service_id="ktp", agency_id="disdukcapil", ahead=3)  # fmt: skip
    effect = fold(new_event(near, source="/t", subject="t-1", time=at(40)), None, None)
    assert [i.metric for i in effect.increments] == ["qms_events_processed_total"]


def test_a_call_is_measured_against_its_slot() -> None:
    issued = fold(ticket_event(EventType.TICKET_ISSUED, 10, channel="online"), None, None).ticket
    checked = fold(_checked_in(), issued, None)
    assert _outcome("checked_in") in checked.increments
    assert checked.ticket is not None
    assert checked.ticket.slot_start == at(30)
    early = fold(ticket_event(EventType.TICKET_CALLED, 25, channel="online"), checked.ticket, None)
    assert Observation("qms_slot_punctuality_seconds", QUEUE, 300.0) in early.observations
    walk_in = fold(ticket_event(EventType.TICKET_CALLED, 25), issued, None)
    assert all(o.metric != "qms_slot_punctuality_seconds" for o in walk_in.observations)


def test_the_daily_report_splits_walk_in_and_online() -> None:
    tickets = [
        fold(ticket_event(EventType.TICKET_ISSUED, 0, ticket=f"t-{i}", channel=ch), None, None).ticket
        for i, ch in enumerate(["kiosk", "kiosk", "online"])
    ]
    row = daily_report("bjb", DAY, [t for t in tickets if t is not None]).rows[0]
    assert (row.issued, row.walk_in, row.online) == (3, 2, 1)
