"""Will the tickets already issued be served before closing? (pure)

The work waiting for a service is shared by the counters open for it; each
serves one ticket per average service time (measured: the moving average of
:mod:`services.ticketing.domain.estimate`). The queue is cleared after
``ceil(waiting / counters) × average`` seconds; if that is later than the
service's closing time today, the last ones will not be served, and a new
ticket would not be either. With no counter open, nothing is served: the
forecast says so rather than assuming a counter opens.

When a service is at risk, :func:`suggest_counter` names a counter that also
serves it and is idle, or the least loaded one, for the supervisor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.ticketing.domain.schedule import Schedule


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast of one service for the rest of today."""

    finish_seconds: int | None
    """Seconds until the tickets waiting now are all served (None: no counter open)."""
    seconds_to_close: int | None
    """Seconds until the service closes today (None: it does not open today)."""
    all_served: bool
    """The tickets waiting now will all be served before closing."""
    new_ticket_served: bool
    """A ticket taken now would be served before closing."""
    unserved: int
    """How many of the waiting tickets will probably not be served."""


def closing_time(schedule: Schedule, now: datetime) -> datetime | None:
    """When ``schedule`` closes on ``now``'s local day (None on a holiday or a closed day)."""
    local = now.astimezone(schedule.timezone)
    if local.date() in schedule.holidays:
        return None
    hours = schedule.hours.get(local.weekday())
    if hours is None:
        return None
    return datetime.combine(local.date(), hours[1], tzinfo=schedule.timezone)


def forecast(
    waiting: int, open_counters: int, average_seconds: float, seconds_to_close: float | None
) -> Forecast:
    """The forecast for ``waiting`` tickets, ``open_counters`` serving, until ``seconds_to_close``."""
    left = None if seconds_to_close is None else max(0, int(seconds_to_close))
    average = max(float(average_seconds), 1.0)
    if open_counters <= 0:
        return Forecast(None if waiting else 0, left, waiting == 0, False, waiting)
    finish = math.ceil(waiting / open_counters) * average
    after_new = math.ceil((waiting + 1) / open_counters) * average
    if left is None:
        return Forecast(int(finish), None, waiting == 0, False, waiting)
    capacity = math.floor(left / average) * open_counters
    return Forecast(
        finish_seconds=int(finish),
        seconds_to_close=left,
        all_served=finish <= left,
        new_ticket_served=after_new <= left,
        unserved=max(0, waiting - capacity),
    )


@dataclass(frozen=True, slots=True)
class CounterLoad:
    """A counter as the suggestion weighs it."""

    counter_id: str
    name: str
    status: str  # open, paused, closed
    busy: bool  # holds a ticket now
    service_ids: tuple[str, ...]


def suggest_counter(
    service_id: str, counters: Sequence[CounterLoad], waiting: Mapping[str, int]
) -> CounterLoad | None:
    """A counter that also serves ``service_id`` and could help it: an idle open one first, then the
    open one whose own queues are shortest, then a paused or closed one to open. None without any."""
    candidates = [c for c in counters if service_id in c.service_ids]
    if not candidates:
        return None

    def load(c: CounterLoad) -> tuple[int, int, int, str]:
        rank = {"open": 0, "paused": 1}.get(c.status, 2)
        others = sum(waiting.get(s, 0) for s in c.service_ids if s != service_id)
        return (rank, int(c.busy), others, c.name)

    return min(candidates, key=load)
