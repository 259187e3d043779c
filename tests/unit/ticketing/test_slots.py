"""Bookable slots: the service's hours minus breaks and holidays, and the online share of the quota."""

import itertools
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.schedule import parse_schedule
from services.ticketing.domain.slots import BookingRules, day_slots, online_quota, parse_rules

WITA = ZoneInfo("Asia/Makassar")
FRIDAY = date(2026, 11, 27)
HALL = parse_schedule(
    {
        "timezone": "Asia/Makassar",
        "hours": {"mon": "08:00-15:00", "fri": "08:00-15:00", "sat": None},
        "breaks": [{"name": "Jumatan", "days": ["fri"], "time": "11:30-13:00"}],
        "holidays": [{"date": "2026-12-25", "name": "Natal"}],
    }
)


def test_slots_skip_breaks_and_stay_within_hours() -> None:
    slots = day_slots(HALL, FRIDAY, 100, BookingRules(slot_minutes=30))
    starts = [s.start.time() for s in slots]
    assert starts[0] == time(8, 0)
    assert starts[-1] == time(14, 30)
    assert time(11, 30) not in starts  # Jumatan
    assert time(12, 30) not in starts
    assert time(11, 0) in starts
    assert time(13, 0) in starts
    assert all(s.start.tzinfo == WITA for s in slots)


def test_a_slot_straddling_a_break_is_not_offered() -> None:
    starts = [s.start.time() for s in day_slots(HALL, FRIDAY, 100, BookingRules(slot_minutes=60))]
    assert time(11, 0) not in starts  # 11:00-12:00 runs into the 11:30 break
    assert time(13, 0) in starts


def test_no_slots_on_holidays_closed_days_or_when_disabled() -> None:
    assert day_slots(HALL, date(2026, 12, 25), 100, BookingRules()) == []
    assert day_slots(HALL, date(2026, 11, 28), 100, BookingRules()) == []  # Saturday
    assert day_slots(HALL, FRIDAY, 100, BookingRules(enabled=False)) == []


def test_capacity_spreads_the_online_share() -> None:
    slots = day_slots(HALL, date(2026, 11, 30), 100, BookingRules(slot_minutes=60, online_share=0.4))
    assert len(slots) == 7
    assert {s.capacity for s in slots} == {6}  # ceil(40 / 7)
    fixed = day_slots(HALL, date(2026, 11, 30), 100, BookingRules(slot_minutes=60, slot_capacity=3))
    assert {s.capacity for s in fixed} == {3}


@given(st.integers(1, 999), st.floats(0, 1))
def test_the_walk_in_share_is_never_booked(quota: int, share: float) -> None:
    online = online_quota(quota, BookingRules(online_share=share))
    assert 0 <= online <= quota
    assert quota - online >= quota * (1 - share) - 1e-6


def test_rules_parse_and_refuse_nonsense() -> None:
    assert parse_rules(None) == BookingRules()
    assert parse_rules({"slot_minutes": 15}).slot_minutes == 15
    with pytest.raises(ValueError, match="unknown"):
        parse_rules({"colour": "red"})
    with pytest.raises(ValueError, match="slot_minutes"):
        parse_rules({"slot_minutes": 1})


def test_slot_periods_are_aware_and_ordered() -> None:
    slots = day_slots(HALL, FRIDAY, 100, BookingRules(slot_minutes=15))
    assert all(a.end <= b.start for a, b in itertools.pairwise(slots))
    assert all(isinstance(s.start, datetime) and s.start.utcoffset() is not None for s in slots)
