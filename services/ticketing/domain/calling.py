"""The call-next choice: which waiting ticket a counter gets.

Rules, in order:

1. Only tickets of the services the counter serves are candidates.
2. Priority tickets (lansia, disabilitas, ibu hamil) go first, but a counter
   makes at most ``max_priority_streak`` priority calls in a row while normal
   tickets wait; then the oldest normal ticket gets its turn.
3. Within a class, first come first served by ``queued_at`` (the original issue
   time: a transferred ticket keeps its place); the counter's service preference
   order breaks ties, then the ticket number (unique in a branch's business day,
   so the choice is deterministic).

The store applies the same rules in SQL (``FOR UPDATE SKIP LOCKED`` per class in
:func:`class_order`); :func:`choose_next` is the reference the tests hold it to.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


class PriorityGroup(enum.StrEnum):
    """The groups that are served first."""

    LANSIA = "lansia"
    DISABILITAS = "disabilitas"
    IBU_HAMIL = "ibu_hamil"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting ticket as the call-next choice sees it."""

    ticket_id: str
    service_id: str
    priority: bool
    queued_at: datetime
    number: str


def class_order(priority_streak: int, max_priority_streak: int) -> tuple[bool, bool]:
    """Which class to try first: ``(True, False)`` means priority first, then normal."""
    if priority_streak >= max_priority_streak:
        return (False, True)
    return (True, False)


def next_streak(priority_streak: int, *, called_priority: bool) -> int:
    """The counter's run of consecutive priority calls after this call."""
    return priority_streak + 1 if called_priority else 0


def choose_next(
    candidates: Iterable[Candidate],
    service_ids: Sequence[str],
    *,
    priority_streak: int,
    max_priority_streak: int,
) -> Candidate | None:
    """The ticket a counter serving ``service_ids`` (in preference order) calls next, or None."""
    rank = {service_id: index for index, service_id in enumerate(service_ids)}
    eligible = [c for c in candidates if c.service_id in rank]
    for want_priority in class_order(priority_streak, max_priority_streak):
        group = [c for c in eligible if c.priority is want_priority]
        if group:
            return min(group, key=lambda c: (c.queued_at, rank[c.service_id], c.number))
    return None
