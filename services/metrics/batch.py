"""Folding a batch of events into the facts and aggregate deltas to write (pure: no I/O).

The store marks the batch's event ids processed, loads the facts the batch
touches, calls :func:`fold_batch`, and writes the result in the same
transaction. Counts and histogram observations are summed per label set, so
a batch of hundreds of events costs a handful of statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from services.events import CloudEvent
from services.metrics.aggregates import (
    HISTOGRAM_BUCKETS,
    CounterFact,
    Effect,
    Labels,
    SurveyFact,
    TicketFact,
    counter_of,
    fold,
    ticket_of,
)
from services.metrics.errors import InvalidEventData

MAX_SEQUENCE = 2**63 - 1  # stored as a PostgreSQL bigint


def event_key(event: CloudEvent) -> str:
    """The canonical form of an event id (as PostgreSQL's uuid type prints it)."""
    text = event.id
    # The model validated the id as a UUID: lower case with the four dashes in place is canonical already.
    if len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-" and text == text.lower():
        return text
    return str(uuid.UUID(text))


def bucket_index(bounds: Sequence[float], value: float) -> int:
    """The slot of ``value`` among non-cumulative buckets (``len(bounds)`` is +Inf)."""
    for index, bound in enumerate(bounds):
        if value <= bound:
            return index
    return len(bounds)


class Outcome(NamedTuple):
    """What happened to one event: applied, a duplicate, or refused with a reason."""

    event: CloudEvent
    applied: bool = False
    duplicate: bool = False
    invalid: str | None = None


@dataclass(slots=True)
class HistogramDelta:
    """Observations to add to one stored histogram."""

    buckets: list[int]
    sum: float = 0.0
    count: int = 0


@dataclass(slots=True)
class BatchResult:
    """Everything a batch changes, ready to be written."""

    outcomes: list[Outcome] = field(default_factory=list)
    tickets: dict[str, TicketFact] = field(default_factory=dict)
    counters: dict[tuple[str, str], CounterFact] = field(default_factory=dict)
    queue_keys: set[tuple[str, str, str]] = field(default_factory=set)
    surveys: dict[str, SurveyFact] = field(default_factory=dict)
    totals: dict[tuple[str, Labels], float] = field(default_factory=dict)
    histograms: dict[tuple[str, Labels], HistogramDelta] = field(default_factory=dict)

    def add(self, effect: Effect) -> None:
        """Merge one event's effect into the batch."""
        if effect.ticket is not None:
            self.tickets[effect.ticket.ticket_id] = effect.ticket
        if effect.counter is not None:
            self.counters[(effect.counter.branch_id, effect.counter.counter_id)] = effect.counter
        if effect.queue_key is not None:
            self.queue_keys.add(effect.queue_key)
        if effect.survey is not None:
            # One answer per ticket: the first one counts.
            self.surveys.setdefault(effect.survey.ticket_id, effect.survey)
        for inc in effect.increments:
            self.totals[(inc.metric, inc.labels)] = (
                self.totals.get((inc.metric, inc.labels), 0.0) + inc.amount
            )
        for obs in effect.observations:
            bounds = HISTOGRAM_BUCKETS[obs.metric]
            delta = self.histograms.setdefault(
                (obs.metric, obs.labels), HistogramDelta([0] * (len(bounds) + 1))
            )
            delta.buckets[bucket_index(bounds, obs.value)] += 1
            delta.sum += obs.value
            delta.count += 1


def fold_batch(
    events: Sequence[CloudEvent],
    fresh: Collection[str],
    tickets: Mapping[str, TicketFact],
    counters: Mapping[tuple[str, str], CounterFact],
) -> BatchResult:
    """Fold ``events`` in order over the loaded facts.

    ``fresh`` holds the ids (see :func:`event_key`) that were not processed
    before this batch; any other event, or a second copy within the batch,
    is a duplicate and changes nothing.
    """
    result = BatchResult()
    seen: set[str] = set()
    for event in events:
        key = event_key(event)
        if key not in fresh or key in seen:
            result.outcomes.append(Outcome(event, duplicate=True))
            continue
        seen.add(key)
        if event.sequence > MAX_SEQUENCE:
            result.outcomes.append(
                Outcome(event, invalid=f"sequence {event.sequence} exceeds {MAX_SEQUENCE}")
            )
            continue
        try:
            ticket_id, counter_id = ticket_of(event), counter_of(event)
            ticket = None if ticket_id is None else result.tickets.get(ticket_id, tickets.get(ticket_id))
            where = (event.branchid, counter_id or "")
            counter = None if counter_id is None else result.counters.get(where, counters.get(where))
            effect = fold(event, ticket, counter)
        except InvalidEventData as exc:
            result.outcomes.append(Outcome(event, invalid=str(exc)))
            continue
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # Data shaped in a way no rule foresaw: refuse this event rather than stall the partition.
            result.outcomes.append(Outcome(event, invalid=f"unusable data: {exc!r}"))
            continue
        result.add(effect)
        result.outcomes.append(Outcome(event, applied=True))
    return result


def touched(events: Sequence[CloudEvent]) -> tuple[set[str], set[tuple[str, str]]]:
    """The ticket ids and (branch, counter) pairs whose facts a batch needs loaded."""
    tickets: set[str] = set()
    counters: set[tuple[str, str]] = set()
    for event in events:
        try:
            ticket_id, counter_id = ticket_of(event), counter_of(event)
        except InvalidEventData:
            continue  # fold_batch reports it
        if ticket_id is not None:
            tickets.add(ticket_id)
        if counter_id is not None:
            counters.add((event.branchid, counter_id))
    return tickets, counters
