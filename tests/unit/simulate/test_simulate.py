"""The hall-day simulator's pure part: legal lifecycles, valid events, determinism."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.simulate import MAX_RECALLS, Day, banjarbaru, build_day, interleave
from services.events import CloudEvent, EventType, decode, encode

START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 08:00 WITA

# The ticket state machine, written out independently of the simulator:
# status before the event -> event type -> status after it.
LEGAL = {
    None: {"ticket.issued": "waiting"},
    "waiting": {"ticket.called": "called", "ticket.cancelled": "cancelled"},
    "called": {"ticket.recalled": "called", "ticket.serving": "serving", "ticket.no_show": "no_show"},
    "serving": {"ticket.completed": "completed", "ticket.transferred": "waiting"},
}


def wire(event: CloudEvent) -> dict[str, Any]:
    """The event's data as it travels (JSON)."""
    return event.to_dict()["data"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def day() -> Day:
    return build_day("sim-unit", tickets=300, seed=7, start=START, hours=8.0)


@pytest.fixture(scope="module")
def closed_day() -> Day:
    return build_day("sim-unit", tickets=200, seed=11, start=START, hours=8.0, close_day=True)


def _by_ticket(events: tuple[CloudEvent, ...]) -> dict[str, list[CloudEvent]]:
    tickets: dict[str, list[CloudEvent]] = defaultdict(list)
    for event in events:
        if event.type.is_ticket_event:
            tickets[wire(event)["ticket_id"]].append(event)
    return tickets


def test_sequences_strictly_increase_from_the_first_and_times_never_go_back(day: Day) -> None:
    sequences = [e.sequence for e in day.events]
    assert sequences == list(range(1, len(day.events) + 1))
    times = [e.time for e in day.events]
    assert times == sorted(times)
    assert times[0] >= START
    assert times[-1] <= START + timedelta(hours=8)


def test_first_sequence_offsets_the_whole_day() -> None:
    later = build_day("sim-unit", tickets=20, seed=7, start=START, first_sequence=501)
    assert [e.sequence for e in later.events] == list(range(501, 501 + len(later.events)))


def test_every_event_round_trips_through_the_contract_codec(day: Day) -> None:
    for event in day.events:
        assert decode(encode(event)) == event
        assert event.branchid == "sim-unit"
        assert wire(event)["branch_id"] == "sim-unit"
    assert len({e.id for e in day.events}) == len(day.events)


def test_every_ticket_follows_the_legal_lifecycle(day: Day) -> None:
    for ticket_id, events in _by_ticket(day.events).items():
        status = None
        for event in events:
            allowed = LEGAL.get(status, {})
            assert event.type.value in allowed, f"{ticket_id}: {event.type} after {status}"
            status = allowed[event.type.value]
            assert wire(event)["status"] == status
            assert event.subject == ticket_id
        recalls = [wire(e)["recall_count"] for e in events if e.type is EventType.TICKET_RECALLED]
        assert all(r <= MAX_RECALLS for r in recalls)
        no_show = [e for e in events if e.type is EventType.TICKET_NO_SHOW]
        if no_show:
            assert wire(no_show[0])["recall_count"] == MAX_RECALLS


def test_ticket_data_carries_the_documented_fields_consistently(day: Day) -> None:
    hall = banjarbaru()
    services = {s.id: s for s in hall.services}
    documented = {
        "ticket_id", "number", "branch_id", "business_date", "service_id", "service_name", "agency_id",
        "agency_name", "counter_id", "counter_name", "zone", "priority", "priority_group", "channel",
        "issued_at", "status",
    }  # fmt: skip
    per_type = {
        EventType.TICKET_ISSUED: {"position", "estimated_wait_seconds", "target_wait_seconds"},
        EventType.TICKET_CALLED: {"called_at", "operator", "forced"},
        EventType.TICKET_RECALLED: {"recall_count"},
        EventType.TICKET_SERVING: {"serving_at"},
        EventType.TICKET_COMPLETED: {"completed_at", "serving_at"},
        EventType.TICKET_NO_SHOW: {"recall_count"},
        EventType.TICKET_TRANSFERRED: {"from_service_id", "from_agency_id", "from_counter_id"},
        EventType.TICKET_CANCELLED: set(),
    }
    for event in day.events:
        if not event.type.is_ticket_event:
            continue
        data = wire(event)
        assert documented | per_type[event.type] <= set(data), event.type
        service = services[data["service_id"]]
        assert data["agency_id"] == service.agency_id
        assert data["number"][0] in {s.prefix for s in hall.services}
        assert data["priority"] == (data["priority_group"] is not None)
        assert data["channel"] in {"kiosk", "online"}
        issued = datetime.fromisoformat(data["issued_at"])
        assert data["business_date"] == (issued + timedelta(hours=8)).date().isoformat()  # WITA
        assert (data["counter_id"] is None) == (
            event.type in {EventType.TICKET_ISSUED, EventType.TICKET_CANCELLED}
        )
        for stamp in ("called_at", "serving_at", "completed_at"):
            if stamp in data and not (event.type is EventType.TICKET_COMPLETED and stamp == "serving_at"):
                assert datetime.fromisoformat(data[stamp]) == event.time


def test_a_ticket_is_called_only_at_an_open_counter_that_offers_its_service(day: Day) -> None:
    desks = {d.id: d for d in banjarbaru().desks}
    status: dict[str, str] = {}
    active: dict[str, str | None] = {}
    for event in day.events:
        data = wire(event)
        if event.type in {EventType.COUNTER_OPENED, EventType.COUNTER_PAUSED, EventType.COUNTER_CLOSED}:
            assert active.get(data["counter_id"]) is None, "a counter stops only when free"
            status[data["counter_id"]] = data["status"]
        elif event.type is EventType.TICKET_CALLED:
            counter = data["counter_id"]
            assert status.get(counter) == "open"
            assert data["service_id"] in desks[counter].service_ids
            assert active.get(counter) is None, "one ticket at a time per counter"
            active[counter] = data["ticket_id"]
        elif event.type in {
            EventType.TICKET_COMPLETED,
            EventType.TICKET_NO_SHOW,
            EventType.TICKET_TRANSFERRED,
        }:
            assert active[data["counter_id"]] == data["ticket_id"]
            active[data["counter_id"]] = None


def test_surveys_come_once_after_a_completed_ticket(day: Day) -> None:
    completed: set[str] = set()
    surveyed: set[str] = set()
    for event in day.events:
        if event.type is EventType.TICKET_COMPLETED:
            completed.add(wire(event)["ticket_id"])
        elif event.type is EventType.SURVEY_SUBMITTED:
            ticket = wire(event)["ticket_id"]
            assert ticket in completed
            assert ticket not in surveyed
            surveyed.add(ticket)
            assert len(wire(event)["scores"]) == 9
            assert all(1 <= s <= 4 for s in wire(event)["scores"])
    assert surveyed


def test_the_day_holds_every_kind_of_event(day: Day) -> None:
    # parking and reactivation (issue 12), the hall's configuration (issue 13) and bookings (issue 14)
    # are not simulated yet
    unsimulated = {
        "ticket.parked",
        "ticket.returned",
        "ticket.reactivated",
        "hall.configured",
        "hall.announcement",
    }
    booking = {t.value for t in EventType if t.value.startswith("appointment.") or t is EventType.TICKET_NEAR}
    assert set(day.counts) == {t.value for t in EventType} - unsimulated - booking
    assert day.counts["ticket.issued"] == day.tickets == 300
    channels = {wire(e)["channel"] for e in day.events if e.type is EventType.TICKET_ISSUED}
    assert channels == {"kiosk", "online"}
    assert any(wire(e)["priority"] for e in day.events if e.type is EventType.TICKET_ISSUED)


def _last_counter_status(events: tuple[CloudEvent, ...]) -> dict[str, str]:
    return {e.subject: wire(e)["status"] for e in events if e.type.value.startswith("counter.")}


def test_an_open_day_ends_with_people_waiting_and_a_closed_day_drains(day: Day, closed_day: Day) -> None:
    last_status = {t: wire(evs[-1])["status"] for t, evs in _by_ticket(day.events).items()}
    assert list(last_status.values()).count("waiting") == day.waiting > 0
    counters = _last_counter_status(day.events)
    assert list(counters.values()).count("open") == day.counters_open > 0
    assert "closed" in counters.values()
    assert closed_day.waiting == closed_day.counters_open == 0
    closing = {t: wire(evs[-1])["status"] for t, evs in _by_ticket(closed_day.events).items()}
    assert set(closing.values()) <= {"completed", "no_show", "cancelled"}
    closes = [e for e in closed_day.events if e.type is EventType.COUNTER_CLOSED]
    assert len({e.subject for e in closes}) == len(banjarbaru().desks)


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    first = build_day("sim-unit", tickets=50, seed=3, start=START)
    again = build_day("sim-unit", tickets=50, seed=3, start=START)
    other = build_day("sim-unit", tickets=50, seed=4, start=START)
    assert [encode(e) for e in first.events] == [encode(e) for e in again.events]
    assert [wire(e) for e in first.events] != [wire(e) for e in other.events]


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_day("sim-unit", start=datetime(2026, 11, 27, 8, 0))


def test_interleaved_branches_keep_time_order_and_each_branch_its_sequence() -> None:
    days = [build_day(f"sim-{i}", tickets=40, seed=i, start=START, hours=2) for i in range(3)]
    merged = interleave(days)
    assert len(merged) == sum(len(d.events) for d in days)
    assert [e.time for e in merged] == sorted(e.time for e in merged)
    for i, day in enumerate(days):
        assert [e for e in merged if e.branchid == f"sim-{i}"] == list(day.events)
