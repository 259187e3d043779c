"""A small simulated hall day as events, for the integration tests."""

from __future__ import annotations

import itertools

from services.events import CloudEvent, EventType
from tests.unit.metrics.events import at, counter_event, ticket_event


def hall_day(branch: str, tickets: int) -> list[CloudEvent]:
    """One counter opens; ``tickets`` are issued; all but the last two are called, served and completed."""
    seq = itertools.count(1)
    events = [counter_event(EventType.COUNTER_OPENED, 0, branch=branch, sequence=next(seq))]
    for i in range(tickets):
        events.append(
            ticket_event(
                EventType.TICKET_ISSUED,
                i * 0.5,
                ticket=f"{branch}-t{i}",
                branch=branch,
                sequence=next(seq),
                estimated_wait_seconds=300,
                target_wait_seconds=900,
                status="waiting",
                issued_at=at(i * 0.5).isoformat(),
            )
        )
    for i in range(tickets - 2):
        t, start = f"{branch}-t{i}", 10 + 10 * i
        common = {"ticket": t, "branch": branch, "counter": "loket-1", "issued_at": at(i * 0.5).isoformat()}
        events.append(ticket_event(EventType.TICKET_CALLED, start, sequence=next(seq), **common))
        events.append(ticket_event(EventType.TICKET_SERVING, start + 1, sequence=next(seq), **common))
        events.append(ticket_event(EventType.TICKET_COMPLETED, start + 8, sequence=next(seq), **common))
    return events


def marker(branch: str, n: int) -> CloudEvent:
    """A harmless event (a never-opened counter closes) that tells when a partition was read up to here."""
    return counter_event(
        EventType.COUNTER_CLOSED, 600 + n, counter=f"marker-{n}", branch=branch, sequence=10_000 + n
    )
