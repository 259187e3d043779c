"""Opening hours, breaks, holidays and the issuing cut-off of a branch or service.

:func:`check_issuing` says whether a ticket may be issued at an aware moment and,
when not, raises :class:`~services.ticketing.errors.IssuingRefused` with a reason
code and the next moment issuing resumes, in the branch's own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.ticketing.errors import IssuingRefused

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_LOOKAHEAD_DAYS = 31


@dataclass(frozen=True, slots=True)
class Break:
    """A recurring pause, e.g. Friday prayers (*Jumatan*) 11:30-13:00 on Fridays."""

    name: str
    weekdays: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Schedule:
    """When tickets may be issued: weekly hours minus breaks, holidays and the cut-off."""

    timezone: ZoneInfo
    hours: Mapping[int, tuple[time, time]]
    breaks: tuple[Break, ...] = ()
    holidays: Mapping[date, str] = field(default_factory=dict)
    cutoff_minutes: int = 0

    def with_hours(self, hours: Mapping[int, tuple[time, time]]) -> Schedule:
        """The same schedule with other weekly hours (a service's own opening hours)."""
        return Schedule(self.timezone, hours, self.breaks, self.holidays, self.cutoff_minutes)

    def with_service_rules(self, rules: Mapping[str, Any]) -> Schedule:
        """A service's schedule: its own breaks and holidays on top of these, its cut-off if it sets one."""
        own = parse_schedule({**rules, "timezone": self.timezone.key})
        cutoff = own.cutoff_minutes if "issuing_cutoff_minutes" in rules else self.cutoff_minutes
        return Schedule(
            self.timezone, self.hours, self.breaks + own.breaks, {**self.holidays, **own.holidays}, cutoff
        )


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone, or ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_hours(raw: Mapping[str, Any]) -> dict[int, tuple[time, time]]:
    """``{"mon": "08:00-15:00", "sat": null}`` into weekday → (open, close)."""
    hours: dict[int, tuple[time, time]] = {}
    for key, span in raw.items():
        if key not in DAYS:
            raise ValueError(f"unknown day {key!r} (use {', '.join(DAYS)})")
        if span is None:
            continue
        start, end = _parse_span(span)
        hours[DAYS.index(key)] = (start, end)
    return hours


def parse_schedule(config: Mapping[str, Any]) -> Schedule:
    """Build a schedule from its stored form (see ``deploy/halls/*.yaml``)."""
    zone = parse_zone(str(config.get("timezone", "")))
    breaks = []
    for item in config.get("breaks") or ():
        days = item.get("days") or list(DAYS)
        if any(day not in DAYS for day in days):
            raise ValueError(f"break {item.get('name')!r}: unknown day in {days!r}")
        start, end = _parse_span(item.get("time", ""))
        breaks.append(
            Break(str(item.get("name", "istirahat")), frozenset(DAYS.index(d) for d in days), start, end)
        )
    holidays: dict[date, str] = {}
    names = config.get("holiday_names") or {}
    for item in config.get("holidays") or ():
        when = item["date"] if isinstance(item, Mapping) else item
        name = item.get("name", "libur") if isinstance(item, Mapping) else names.get(str(item), "libur")
        try:
            holidays[when if isinstance(when, date) else date.fromisoformat(str(when))] = str(name)
        except ValueError as exc:
            raise ValueError(f"holiday {when!r} is not YYYY-MM-DD") from exc
    cutoff = config.get("issuing_cutoff_minutes", 0)
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 0:
        raise ValueError("issuing_cutoff_minutes must be a non-negative integer")
    return Schedule(zone, parse_hours(config.get("hours") or {}), tuple(breaks), holidays, cutoff)


def check_issuing(schedule: Schedule, now: datetime) -> None:
    """Return when a ticket may be issued at ``now``; raise IssuingRefused saying why not."""
    local = now.astimezone(schedule.timezone)
    reason = _refusal(schedule, local)
    if reason is None:
        return
    code, detail = reason
    retry_at = next_opening(schedule, now)
    raise IssuingRefused(detail + come_back(schedule, retry_at), reason=code, retry_at=retry_at)


def come_back(schedule: Schedule, retry_at: datetime | None) -> str:
    """The sentence of a refusal that says when to come back (empty when not within a month)."""
    if retry_at is None:
        return ""
    local = retry_at.astimezone(schedule.timezone)
    return f" Silakan datang kembali {local:%Y-%m-%d %H:%M} ({schedule.timezone.key})."


def next_opening(schedule: Schedule, now: datetime) -> datetime | None:
    """The first moment at or after ``now`` when issuing is allowed, or None within a month."""
    local = now.astimezone(schedule.timezone)
    for offset in range(_LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=offset)
        window = _issuing_window(schedule, day)
        if window is None:
            continue
        start, stop = window
        candidate = max(start, local) if offset == 0 else start
        for _ in range(len(schedule.breaks) + 1):
            pause = _break_at(schedule, candidate)
            if pause is None:
                break
            candidate = datetime.combine(day, pause.end, tzinfo=schedule.timezone)
        if candidate < stop and _break_at(schedule, candidate) is None:
            return candidate
    return None


def _refusal(schedule: Schedule, local: datetime) -> tuple[str, str] | None:
    day = local.date()
    if day in schedule.holidays:
        return "holiday", f"Hari libur: {schedule.holidays[day]}."
    hours = schedule.hours.get(day.weekday())
    if hours is None:
        return "closed", "Layanan tutup hari ini."
    opening = datetime.combine(day, hours[0], tzinfo=schedule.timezone)
    closing = datetime.combine(day, hours[1], tzinfo=schedule.timezone)
    if local < opening:
        return "not_open_yet", f"Layanan buka pukul {hours[0]:%H:%M}."
    if local >= closing:
        return "closed", f"Layanan sudah tutup pukul {hours[1]:%H:%M}."
    if local >= closing - timedelta(minutes=schedule.cutoff_minutes):
        cutoff = closing - timedelta(minutes=schedule.cutoff_minutes)
        return "cutoff", f"Pengambilan nomor antrian ditutup pukul {cutoff:%H:%M}."
    pause = _break_at(schedule, local)
    if pause is not None:
        return "break", f"Istirahat ({pause.name}) {pause.start:%H:%M}-{pause.end:%H:%M}."
    return None


def _issuing_window(schedule: Schedule, day: date) -> tuple[datetime, datetime] | None:
    if day in schedule.holidays:
        return None
    hours = schedule.hours.get(day.weekday())
    if hours is None:
        return None
    start = datetime.combine(day, hours[0], tzinfo=schedule.timezone)
    stop = datetime.combine(day, hours[1], tzinfo=schedule.timezone) - timedelta(
        minutes=schedule.cutoff_minutes
    )
    return (start, stop) if start < stop else None


def _break_at(schedule: Schedule, local: datetime) -> Break | None:
    moment = local.astimezone(schedule.timezone)
    for pause in schedule.breaks:
        if moment.weekday() in pause.weekdays and pause.start <= moment.time() < pause.end:
            return pause
    return None


def _parse_span(span: object) -> tuple[time, time]:
    match = _SPAN_RE.match(span) if isinstance(span, str) else None
    if match is None:
        raise ValueError(f"time span must look like '08:00-15:00', got {span!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    try:
        # "24:00" closes at the very end of the day.
        start, end = time(h1, m1), (time.max if (h2, m2) == (24, 0) else time(h2, m2))
    except ValueError as exc:
        raise ValueError(f"invalid time in {span!r}") from exc
    if not start < end:
        raise ValueError(f"time span {span!r} must end after it starts")
    return start, end


def always_open(timezone: ZoneInfo) -> Schedule:
    """A schedule open all day every day (tests and benchmarks)."""
    whole_day = (time(0, 0), time(23, 59, 59, 999999))
    return Schedule(timezone, dict.fromkeys(range(7), whole_day))


def weekday_names(days: Sequence[int]) -> list[str]:
    """Day codes for weekday numbers (Monday = 0)."""
    return [DAYS[d] for d in days]
