"""Where a checked-in booking joins the queue: the merge rule of online and walk-in tickets.

Pure code, no clock of its own.

The rule:

1. A booking may be checked in from ``EARLY`` (30 minutes) before its slot
   starts until ``LATE`` (15 minutes) after; earlier is refused with the moment
   to come back.
2. Checked in within that window, its ticket is queued *at the slot start*
   (``queued_at = slot_start``): it is called in first-come order as if the
   citizen had walked in at the start of the slot. Walk-ins who came before the
   slot started stay ahead of it; walk-ins who come after are behind it.
3. Checked in later than ``LATE`` after the slot start, the booking has lapsed:
   the citizen gets an ordinary walk-in ticket queued at the moment of arrival.

The call-next choice (:mod:`services.ticketing.domain.calling`) is unchanged:
it orders by ``queued_at`` within the priority classes, so the priority rule
still holds for online tickets. No walk-in is starved: the only online tickets
that can overtake a walk-in who arrived at ``w`` are those of slots starting in
``[w - LATE, w]`` (later slots queue behind ``w``, earlier ones have lapsed),
so a walk-in is overtaken by at most the online capacity of the slots that
start within ``LATE`` before its arrival, which the online share bounds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

EARLY = timedelta(minutes=30)
LATE = timedelta(minutes=15)


class Arrival(enum.StrEnum):
    """When a citizen checks in, relative to the booking's window."""

    TOO_EARLY = "too_early"
    ON_TIME = "on_time"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Window:
    """The check-in window of a slot."""

    opens: datetime
    closes: datetime


def window(slot_start: datetime, *, early: timedelta = EARLY, late: timedelta = LATE) -> Window:
    """The check-in window: ``early`` before the slot starts until ``late`` after."""
    return Window(slot_start - early, slot_start + late)


def arrival(
    slot_start: datetime, now: datetime, *, early: timedelta = EARLY, late: timedelta = LATE
) -> Arrival:
    """Whether checking in at ``now`` is too early, on time or late."""
    span = window(slot_start, early=early, late=late)
    if now < span.opens:
        return Arrival.TOO_EARLY
    if now > span.closes:
        return Arrival.LATE
    return Arrival.ON_TIME


def queued_at(slot_start: datetime, now: datetime, *, late: timedelta = LATE) -> datetime:
    """The place in line of a booking checked in at ``now``: its slot start, or ``now`` when lapsed."""
    return slot_start if now <= slot_start + late else now


def lapsed(slot_start: datetime, now: datetime, *, late: timedelta = LATE) -> bool:
    """True when a booking not checked in by ``now`` has expired (a no-show)."""
    return now > slot_start + late
