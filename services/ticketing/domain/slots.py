"""Bookable slots of a service: its hours minus breaks and holidays, cut into equal slots.

Pure code. The opening rules are :mod:`services.ticketing.domain.schedule`'s
(a slot is bookable when issuing is allowed at its start and just before its
end, and no break begins inside it), so a slot never falls on a holiday, in a
break, after the issuing cut-off or outside the service's own hours.

Quotas: the online share of a service's daily quota (``online_share`` of
``daily_quota``, rounded down) is all that bookings may take in a day; the rest
is the kiosk's walk-in share, which bookings can never reach. Each slot holds
at most ``slot_capacity`` bookings (by default the online quota spread evenly
over the day's slots, rounded up).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from services.ticketing.domain.schedule import Schedule, check_issuing
from services.ticketing.errors import IssuingRefused

_TICK = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class BookingRules:
    """How a service takes bookings (``services.booking``; null means these defaults)."""

    enabled: bool = True
    slot_minutes: int = 30
    slot_capacity: int | None = None
    online_share: float = 0.5
    days_ahead: int = 14
    require_nik: bool = False

    def __post_init__(self) -> None:
        if not 5 <= self.slot_minutes <= 240:
            raise ValueError("slot_minutes must be 5-240")
        if self.slot_capacity is not None and not 1 <= self.slot_capacity <= 999:
            raise ValueError("slot_capacity must be 1-999")
        if not 0.0 <= self.online_share <= 1.0:
            raise ValueError("online_share must be between 0 and 1")
        if not 0 <= self.days_ahead <= 366:
            raise ValueError("days_ahead must be 0-366")


def parse_rules(raw: Mapping[str, Any] | None) -> BookingRules:
    """The booking rules from their stored form; ValueError naming a bad field."""
    if not raw:
        return BookingRules()
    known = set(BookingRules.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown booking setting(s): {', '.join(sorted(unknown))}")
    return BookingRules(**dict(raw))


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable period with its capacity for bookings."""

    start: datetime
    end: datetime
    capacity: int


def online_quota(daily_quota: int, rules: BookingRules) -> int:
    """How many bookings a service takes in one day: its online share, rounded down."""
    return math.floor(daily_quota * rules.online_share + 1e-9)


def _open_at(schedule: Schedule, moment: datetime) -> bool:
    try:
        check_issuing(schedule, moment)
    except IssuingRefused:
        return False
    return True


def _break_inside(schedule: Schedule, start: datetime, end: datetime) -> bool:
    """A break that begins strictly inside ``(start, end)`` (local times of one day)."""
    local = start.astimezone(schedule.timezone)
    later = end.astimezone(schedule.timezone)
    return any(
        local.weekday() in b.weekdays and local.time() < b.start < later.time() for b in schedule.breaks
    )


def slot_periods(schedule: Schedule, day: date, rules: BookingRules) -> list[tuple[datetime, datetime]]:
    """The ``(start, end)`` of every bookable slot of ``day`` (branch-local)."""
    hours = schedule.hours.get(day.weekday())
    if hours is None or day in schedule.holidays:
        return []
    step = timedelta(minutes=rules.slot_minutes)
    start = datetime.combine(day, hours[0], tzinfo=schedule.timezone)
    closing = datetime.combine(day, hours[1], tzinfo=schedule.timezone)
    periods = []
    while start + step <= closing + _TICK:
        end = start + step
        if (
            _open_at(schedule, start)
            and _open_at(schedule, end - _TICK)
            and not _break_inside(schedule, start, end)
        ):
            periods.append((start, end))
        start = end
    return periods


def day_slots(schedule: Schedule, day: date, daily_quota: int, rules: BookingRules) -> list[Slot]:
    """The day's slots, each with its booking capacity (0 when the online share is 0)."""
    periods = slot_periods(schedule, day, rules)
    if not periods or not rules.enabled:
        return []
    quota = online_quota(daily_quota, rules)
    capacity = rules.slot_capacity if rules.slot_capacity is not None else math.ceil(quota / len(periods))
    return [Slot(start, end, min(capacity, quota)) for start, end in periods]


def bookable_days(today: date, rules: BookingRules) -> tuple[date, date]:
    """The first and last day that can be booked: today up to ``days_ahead`` days later."""
    return today, today + timedelta(days=rules.days_ahead)


def find_slot(slots: list[Slot], start: datetime) -> Slot | None:
    """The slot that starts at ``start``, or None."""
    for slot in slots:
        if slot.start == start:
            return slot
    return None


def midnight(day: date, schedule: Schedule) -> datetime:
    """The start of a branch-local day."""
    return datetime.combine(day, time(0, 0), tzinfo=schedule.timezone)
