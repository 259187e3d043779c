"""The screen fold: calls, counters, waiting counts, duplicates, gaps, replays, rollover."""

import ast
import copy
import itertools
import pathlib
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.display.errors import ScreenError, SequenceGapError
from services.display.screen import (
    RECENT_CALLS,
    BranchInfo,
    BranchScreen,
    CounterInfo,
    apply,
    parse_branch,
    snapshot,
    spend,
    trusted_chain,
)
from services.events import CloudEvent, EventType, InvalidDataError, new_event, parse_data
from tests.unit.events.kit import ticket_defaults

TZ = ZoneInfo("Asia/Makassar")
TODAY = date(2026, 11, 28)
T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 09:00 WITA


class BranchEvents:
    """Builds a realistic event stream for one branch."""

    def __init__(self, branch: str = "bjb", day: date = TODAY) -> None:
        self.branch, self.day, self.seq = branch, day, 0
        self.events: list[CloudEvent] = []

    def _emit(self, kind: EventType, subject: str, fields: dict[str, Any]) -> CloudEvent:
        common = {"branch_id": self.branch, "timezone": TZ.key, "business_date": self.day}
        data = parse_data(kind, {**common, **fields})  # InvalidDataError for what the contract refuses
        self.seq += 1
        event = new_event(data, source="/ticketing", subject=subject, time=T0 + timedelta(minutes=self.seq))
        event = event.with_sequence(self.seq)
        self.events.append(event)
        return event

    def counter(self, kind: EventType, counter: str, zone: str = "lantai-1") -> CloudEvent:
        name = f"Loket {counter}"
        status = {"opened": "open", "paused": "paused", "closed": "closed"}[kind.value.split(".")[1]]
        data = {
            "counter_id": f"c{counter}",
            "counter_name": name,
            "zone": zone,
            "status": status,
            "service_ids": ["ktp"],
        }
        return self._emit(kind, f"c{counter}", data)

    def ticket(
        self, kind: EventType, number: str, counter: str | None = None, service: str = "ktp", **extra: Any
    ) -> CloudEvent:
        agency = {"ktp": "disdukcapil", "kk": "disdukcapil", "pbb": "bapenda"}[service]
        data = {
            "ticket_id": f"t-{number}",
            "number": number,
            "service_id": service,
            "service_name": service.upper(),
            "agency_id": agency,
            "agency_name": agency.title(),
            "counter_id": f"c{counter}" if counter else None,
            "counter_name": f"Loket {counter}" if counter else None,
            "zone": "lantai-2" if counter == "9" else ("lantai-1" if counter else None),
            "priority": False,
            "channel": "kiosk",
            "issued_at": T0.isoformat(),
            **ticket_defaults(kind, T0 + timedelta(minutes=self.seq + 1)),
            **extra,
        }
        return self._emit(kind, f"t-{number}", data)


def _fold(events: list[CloudEvent], screen: BranchScreen | None = None) -> BranchScreen:
    screen = screen or BranchScreen("bjb")
    for event in events:
        apply(screen, event, today=TODAY)
    return screen


def _busy_hall() -> BranchEvents:
    hall = BranchEvents()
    hall.counter(EventType.COUNTER_OPENED, "1")
    hall.counter(EventType.COUNTER_OPENED, "3")
    hall.counter(EventType.COUNTER_OPENED, "9", zone="lantai-2")
    for n in range(1, 6):
        hall.ticket(EventType.TICKET_ISSUED, f"A{n:03d}")
    hall.ticket(EventType.TICKET_ISSUED, "B001", service="pbb")
    hall.ticket(EventType.TICKET_CALLED, "A001", "1")
    hall.ticket(EventType.TICKET_SERVING, "A001", "1")
    hall.ticket(EventType.TICKET_CALLED, "A002", "3")
    hall.ticket(EventType.TICKET_RECALLED, "A002", "3", recall_count=1)
    hall.ticket(EventType.TICKET_CALLED, "B001", "9", service="pbb")
    hall.ticket(EventType.TICKET_COMPLETED, "A001", "1")
    hall.ticket(EventType.TICKET_CANCELLED, "A005")
    return hall


def test_a_busy_morning() -> None:
    screen = _fold(_busy_hall().events)
    snap = snapshot(screen, today=TODAY)
    by_id = {c["counter_id"]: c for c in snap["counters"]}
    assert by_id["c1"]["number"] == "A001"
    assert by_id["c1"]["ticket_status"] == "completed"
    assert by_id["c3"]["number"] == "A002"
    assert by_id["c3"]["ticket_status"] == "called"
    assert by_id["c9"]["number"] == "B001"
    assert [c["number"] for c in snap["calls"]] == ["B001", "A002", "A002", "A001"]
    assert snap["calls"][1]["recall"] is True
    assert snap["calls"][1]["announcement"].startswith("Panggilan ulang, nomor antrian A dua")
    assert snap["waiting"]["total"] == 2  # A003, A004
    assert snap["waiting"]["agencies"] == [{"agency_id": "disdukcapil", "name": "Disdukcapil", "waiting": 2}]
    assert snap["counters_open"] == 3
    assert snap["seq"] == len(_busy_hall().events)


def test_a_call_returns_the_message_a_screen_needs() -> None:
    hall = BranchEvents()
    hall.ticket(EventType.TICKET_ISSUED, "A012")
    screen = _fold(hall.events)
    change = apply(screen, hall.ticket(EventType.TICKET_CALLED, "A012", "3"), today=TODAY)
    assert change is not None
    msg = change.message
    assert msg["type"] == "ticket.called"
    assert msg["seq"] == 2
    assert (msg["number"], msg["counter_id"], msg["counter_name"]) == ("A012", "c3", "Loket 3")
    assert msg["announcement"] == "Nomor antrian A dua belas, silakan menuju Loket tiga"
    assert msg["waiting"]["total"] == 0


def test_duplicates_and_replays_change_nothing() -> None:
    events = _busy_hall().events
    once = snapshot(_fold(events), today=TODAY)
    screen = _fold(events)
    assert all(apply(screen, e, today=TODAY) is None for e in events)
    assert snapshot(_fold(events, screen), today=TODAY) == once


def test_out_of_order_replay_is_ignored() -> None:
    events = _busy_hall().events
    expected = snapshot(_fold(events), today=TODAY)
    screen = _fold(events)
    shuffled = events[:]
    random.Random(4).shuffle(shuffled)
    for event in shuffled:
        assert apply(screen, event, today=TODAY) is None
    assert snapshot(screen, today=TODAY) == expected


def test_interleaved_duplicates_fold_like_the_clean_stream() -> None:
    events = _busy_hall().events
    noisy = list(itertools.chain.from_iterable((e, events[max(0, i - 2)]) for i, e in enumerate(events)))
    assert snapshot(_fold(noisy), today=TODAY) == snapshot(_fold(events), today=TODAY)


def test_a_gap_is_refused_and_changes_nothing() -> None:
    events = _busy_hall().events
    screen = _fold(events[:5])
    before = snapshot(screen, today=TODAY)
    with pytest.raises(SequenceGapError):
        apply(screen, events[6], today=TODAY)
    assert snapshot(screen, today=TODAY) == before
    assert apply(screen, events[5], today=TODAY) is not None


def test_the_trusted_chain_leaves_a_forged_far_ahead_sequence_out() -> None:
    events = _busy_hall().events
    forged = events[3].with_sequence(999_999_999)
    log = [*events[:4], forged, *events[4:], events[2]]  # a duplicate too
    chain, rejected = trusted_chain(log)
    assert [e.sequence for e in chain] == [e.sequence for e in events]
    assert rejected == [forged]
    assert snapshot(_fold(chain), today=TODAY) == snapshot(_fold(events), today=TODAY)


def test_a_spent_sequence_is_no_gap() -> None:
    events = _busy_hall().events
    screen = _fold(events[:3])
    spend(screen, events[3].sequence)
    assert apply(screen, events[4], today=TODAY) is not None


def test_recent_calls_are_bounded_and_newest_first() -> None:
    hall = BranchEvents()
    for n in range(RECENT_CALLS + 5):
        hall.ticket(EventType.TICKET_CALLED, f"A{n:03d}", "1")
    calls = snapshot(_fold(hall.events), today=TODAY)["calls"]
    assert len(calls) == RECENT_CALLS
    assert calls[0]["number"] == f"A{RECENT_CALLS + 4:03d}"


def test_zone_narrows_counters_and_calls() -> None:
    snap = snapshot(_fold(_busy_hall().events), today=TODAY, zone="lantai-2")
    assert [c["counter_id"] for c in snap["counters"]] == ["c9"]
    assert [c["number"] for c in snap["calls"]] == ["B001"]


def test_yesterdays_events_are_skipped() -> None:
    old = BranchEvents(day=TODAY - timedelta(days=1))
    old.ticket(EventType.TICKET_ISSUED, "A001")
    screen = _fold(old.events)
    assert snapshot(screen, today=TODAY)["waiting"]["total"] == 0
    assert screen.seq == 1


def test_a_day_closed_cancellation_of_yesterdays_ticket_leaves_today_alone() -> None:
    # After midnight, housekeeping cancels yesterday's A003 while today's A003 waits.
    hall = _busy_hall()
    screen = _fold(hall.events)
    before = snapshot(screen, today=TODAY)
    yesterday = BranchEvents(day=TODAY - timedelta(days=1))
    yesterday.seq = hall.seq
    closed = yesterday.ticket(
        EventType.TICKET_CANCELLED,
        "A003",
        ticket_id="t-yesterday-A003",
        status="cancelled",
        reason="day_closed",
    )
    assert apply(screen, closed, today=TODAY) is None
    assert screen.business_date == TODAY
    assert snapshot(screen, today=TODAY) == {**before, "seq": closed.sequence}
    assert snapshot(screen, today=TODAY)["waiting"]["total"] == 2  # A003 and A004 of today


def test_midnight_rollover_empties_the_screen_without_any_event() -> None:
    screen = _fold(_busy_hall().events)
    tomorrow = TODAY + timedelta(days=1)
    snap = snapshot(screen, today=tomorrow)
    assert (snap["calls"], snap["counters"], snap["waiting"]["total"]) == ([], [], 0)
    assert snap["business_date"] == tomorrow.isoformat()


def test_a_new_day_event_resets_the_state() -> None:
    screen = _fold(_busy_hall().events)
    new_day = BranchEvents(day=TODAY + timedelta(days=1))
    new_day.seq = screen.seq
    change = apply(screen, new_day.ticket(EventType.TICKET_ISSUED, "A001"), today=TODAY)
    assert change is not None
    assert change.reset
    assert screen.calls == []
    assert len(screen.waiting) == 1


def test_counter_events_follow_their_local_date() -> None:
    hall = BranchEvents()
    late = hall.counter(EventType.COUNTER_OPENED, "1")
    screen = BranchScreen("bjb")
    yesterday_evening = new_event(
        late.data.model_copy(update={"business_date": TODAY - timedelta(days=1)}),
        source=late.source,
        subject=late.subject,
        time=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),  # 23:00 WITA the day before
    ).with_sequence(1)
    assert apply(screen, yesterday_evening, today=TODAY) is None
    assert apply(screen, late.with_sequence(2), today=TODAY) is not None


def test_transfer_puts_the_ticket_back_in_the_queue() -> None:
    hall = BranchEvents()
    hall.ticket(EventType.TICKET_CALLED, "A001", "1")
    hall.ticket(EventType.TICKET_TRANSFERRED, "A001", "1", service="pbb", from_service_id="ktp")
    snap = snapshot(_fold(hall.events), today=TODAY)
    assert snap["waiting"]["agencies"][0]["agency_id"] == "bapenda"
    assert snap["counters"][0]["ticket_status"] == "transferred"


def test_pause_and_close() -> None:
    hall = BranchEvents()
    hall.counter(EventType.COUNTER_OPENED, "1")
    hall.ticket(EventType.TICKET_CALLED, "A001", "1")
    hall.counter(EventType.COUNTER_PAUSED, "1")
    assert snapshot(_fold(hall.events), today=TODAY)["counters"][0]["status"] == "paused"
    hall.counter(EventType.COUNTER_CLOSED, "1")
    counter = snapshot(_fold(hall.events), today=TODAY)["counters"][0]
    assert (counter["status"], counter["number"]) == ("closed", None)


def test_a_call_without_a_counter_is_refused_by_the_contract() -> None:
    with pytest.raises(InvalidDataError, match="counter_id"):
        BranchEvents().ticket(EventType.TICKET_CALLED, "A001", None)


def test_directory_counters_appear_before_any_event() -> None:
    info = parse_branch(
        {
            "id": "bjb",
            "name": "MPP Banjarbaru",
            "timezone": "Asia/Makassar",
            "counters": [{"id": "c10", "name": "Loket 10", "zone": None}, {"id": "c2", "name": "Loket 2"}],
            "agencies": [{"id": "bapenda", "name": "Bapenda"}],
        }
    )
    assert info == BranchInfo(
        "bjb",
        "MPP Banjarbaru",
        "Asia/Makassar",
        (CounterInfo("c10", "Loket 10", None), CounterInfo("c2", "Loket 2", None)),
        {"bapenda": "Bapenda"},
    )
    names = [c["name"] for c in snapshot(BranchScreen("bjb"), today=TODAY, info=info)["counters"]]
    assert names == ["Loket 2", "Loket 10"]
    with pytest.raises(ScreenError):
        parse_branch({"id": "x"})


@pytest.mark.parametrize("module", ["screen", "announce"])
def test_core_modules_import_no_io(module: str) -> None:
    source = pathlib.Path(__file__).parents[3] / "services" / "display" / f"{module}.py"
    tree = ast.parse(source.read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    forbidden = {"asyncio", "aiohttp", "asyncpg", "aiokafka", "websockets", "socket", "subprocess"}
    assert not {name.split(".")[0] for name in imported} & forbidden
    assert all(
        not name.startswith("services.") or name.startswith(("services.display.", "services.events"))
        for name in imported
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("counter_name", "L" * 400),
        ("counter_name", "Loket " + "7" * 60),  # short, but spoken digit by digit it runs past 300
        ("zone", "z" * 65),
        ("agency_name", "x" * 101),
        ("ticket_id", "t" * 129),
        ("counter_name", "Loket\n1"),
    ],
)
def test_over_long_or_invalid_fields_are_refused(field: str, value: str) -> None:
    hall = BranchEvents()
    with pytest.raises((InvalidDataError, ScreenError), match=r"data\.|announcement"):
        apply(
            BranchScreen("bjb"),
            hall.ticket(EventType.TICKET_CALLED, "A001", "1", **{field: value}),
            today=TODAY,
        )


def test_an_over_long_ticket_number_is_refused() -> None:
    with pytest.raises(InvalidDataError, match="number"):
        BranchEvents().ticket(EventType.TICKET_CALLED, "A" + "0" * 40, "1")


def _refused_without_a_trace(screen: BranchScreen, event: Callable[[], CloudEvent], match: str) -> None:
    """Refused by the contract (when decoded) or by the fold; either way the screen is untouched."""
    before = copy.deepcopy(screen)
    with pytest.raises((InvalidDataError, ScreenError), match=match):
        apply(screen, event(), today=TODAY)
    assert screen == before


def test_a_malformed_event_of_the_next_day_does_not_empty_the_screen() -> None:
    hall = _busy_hall()
    screen = _fold(hall.events)
    tomorrow = BranchEvents(day=TODAY + timedelta(days=1))
    tomorrow.seq = hall.seq
    _refused_without_a_trace(
        screen, lambda: tomorrow.ticket(EventType.TICKET_ISSUED, "A001", agency_id=None), "agency_id"
    )
    assert snapshot(screen, today=TODAY)["waiting"]["total"] == 2


@pytest.mark.parametrize(
    ("kind", "number", "extra", "match"),
    [
        (EventType.TICKET_SERVING, "", {}, "number"),  # at a counter the screen has not seen yet
        (EventType.TICKET_SERVING, "A" * 17, {}, "number"),
        (EventType.TICKET_NO_SHOW, "A003", {"zone": "z" * 65}, "zone"),
        (EventType.TICKET_CALLED, "A003", {"counter_name": "L" * 101}, "counter_name"),
        (EventType.TICKET_CALLED, "A003", {"counter_name": "Loket " + "7" * 60}, "announcement"),
        (EventType.TICKET_TRANSFERRED, "A003", {"service_name": 12}, "service_name"),
        (EventType.TICKET_CALLED, "A003", {"agency_name": "x" * 101}, "agency_name"),
    ],
)
def test_a_bad_field_after_good_events_leaves_the_state_unchanged(
    kind: EventType, number: str, extra: dict[str, Any], match: str
) -> None:
    hall = _busy_hall()
    screen = _fold(hall.events)
    _refused_without_a_trace(screen, lambda: hall.ticket(kind, number, "5", **extra), match)
    assert screen.seq <= hall.seq


def test_appointment_events_pass_the_screen_by() -> None:
    hall = _busy_hall()
    booked = hall._emit(
        EventType.APPOINTMENT_BOOKED,
        "K7M2Q9XD",
        {
            "booking_code": "K7M2Q9XD",
            "slot_date": TODAY + timedelta(days=7),  # booked today for next week
            "service_id": "ktp",
            "service_name": "KTP",
            "agency_id": "disdukcapil",
            "slot_start": (T0 + timedelta(days=7)).isoformat(),
            "slot_end": (T0 + timedelta(days=7, minutes=30)).isoformat(),
            "status": "booked",
            "booked_at": T0.isoformat(),
        },
    )
    screen = _fold(hall.events[:-1])
    before = snapshot(screen, today=TODAY)
    assert apply(screen, booked, today=TODAY) is None
    after = snapshot(screen, today=TODAY)
    assert after == {**before, "seq": before["seq"] + 1}
