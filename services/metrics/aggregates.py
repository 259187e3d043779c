"""Folding one event into the facts the metrics keep (pure: no I/O).

The store loads the facts an event touches (the ticket, the counter), calls
:func:`fold`, and writes back the :class:`Effect` in the same transaction that
marks the event processed. Counts and histogram observations are part of the
effect, so they are stored exactly once per event as well.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from services.events import (
    CloudEvent,
    CounterData,
    CounterPaused,
    EventType,
    HallAnnouncement,
    HallConfigured,
    SurveySubmitted,
    TicketCalled,
    TicketCancelled,
    TicketCompleted,
    TicketData,
    TicketIssued,
    TicketNoShow,
    TicketParked,
    TicketReactivated,
    TicketRecalled,
    TicketReturned,
    TicketServing,
    TicketTransferred,
)
from services.events.data import AppointmentCheckedIn, AppointmentData, TicketNear
from services.metrics.errors import InvalidEventData

# Histogram buckets (seconds), fixed by the design: minutes, not milliseconds.
WAIT_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0)
WALK_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
SERVICE_BUCKETS = WAIT_BUCKETS
HISTOGRAM_BUCKETS: Mapping[str, tuple[float, ...]] = {
    "qms_wait_seconds": WAIT_BUCKETS,
    "qms_walk_seconds": WALK_BUCKETS,
    "qms_service_seconds": SERVICE_BUCKETS,
    "qms_wait_estimate_error_seconds": WAIT_BUCKETS,
}

WAITING = "waiting"
Labels = tuple[tuple[str, str], ...]


def labels(**values: str) -> Labels:
    """A canonical (sorted) label set."""
    return tuple(sorted(values.items()))


class Increment(NamedTuple):
    """Add ``amount`` to the counter ``metric`` with ``labels``."""

    metric: str
    labels: Labels
    amount: float = 1.0


# Every event counts once under its type; built once, not per event.
_PROCESSED = {kind: Increment("qms_events_processed_total", labels(type=kind.value)) for kind in EventType}


class Observation(NamedTuple):
    """One observation of the histogram ``metric`` with ``labels``."""

    metric: str
    labels: Labels
    value: float


class TicketFact(NamedTuple):
    """What the metrics remember about one ticket."""

    ticket_id: str
    branch_id: str
    agency_id: str
    service_id: str
    channel: str
    business_date: date
    issued_at: datetime
    status: str
    estimated_wait_seconds: int | None = None
    target_wait_seconds: int | None = None
    counter_id: str | None = None
    waiting_since: datetime | None = None
    first_called_at: datetime | None = None
    called_at: datetime | None = None
    serving_at: datetime | None = None
    completed_at: datetime | None = None
    slot_start: datetime | None = None  # a checked-in booking's slot: punctuality of its call


class CounterFact(NamedTuple):
    """One counter: whether it is open, its active ticket and its idle time so far."""

    branch_id: str
    counter_id: str
    status: str = "closed"
    active_ticket_id: str | None = None
    idle_since: datetime | None = None
    idle_seconds: float = 0.0


class SurveyFact(NamedTuple):
    """One survey answer (nine scores) for a completed ticket."""

    ticket_id: str
    branch_id: str
    agency_id: str
    service_id: str
    counter_id: str | None
    submitted_at: datetime
    local_date: date
    scores: tuple[int, ...]
    sex: str | None = None
    age_group: str | None = None
    education: str | None = None
    occupation: str | None = None
    saran: str | None = None


class Effect(NamedTuple):
    """Everything one event changes; the store writes it in one transaction."""

    ticket: TicketFact | None = None
    counter: CounterFact | None = None
    survey: SurveyFact | None = None
    queue_key: tuple[str, str, str] | None = None
    increments: tuple[Increment, ...] = ()
    observations: tuple[Observation, ...] = ()


def counter_of(event: CloudEvent) -> str | None:
    """The counter whose state an event changes (None when it concerns no counter)."""
    data = event.data
    if isinstance(data, TicketTransferred):
        return data.from_counter_id or data.counter_id
    if isinstance(data, TicketIssued | TicketCancelled):
        return None
    return data.counter_id if isinstance(data, TicketData | CounterData) else None


def ticket_of(event: CloudEvent) -> str | None:
    """The ticket an event concerns (None for counter events)."""
    data = event.data
    return data.ticket_id if isinstance(data, TicketData | SurveySubmitted | AppointmentCheckedIn) else None


def fold(event: CloudEvent, ticket: TicketFact | None, counter: CounterFact | None) -> Effect:
    """The effect of ``event`` on the stored ``ticket`` and ``counter`` facts.

    The business day and the branch's time zone come from the event's data.
    """
    processed = _PROCESSED[event.type]
    data = event.data
    if isinstance(data, TicketData):  # the most frequent, so tested first
        return _ticket_event(event, data, ticket or _new_ticket(event, data), counter)
    if isinstance(data, SurveySubmitted):
        return _survey(event, data)._replace(increments=(processed,))
    if isinstance(data, CounterData):
        return Effect(counter=_counter_event(event, data, counter), increments=(processed,))
    if isinstance(data, AppointmentCheckedIn) and ticket is not None and not data.late:
        slotted = ticket._replace(slot_start=data.slot_start)
        return Effect(ticket=slotted, increments=(processed, *_appointment(event.branchid, data)))
    if isinstance(data, AppointmentData | TicketNear):
        return Effect(increments=(processed, *_appointment(event.branchid, data)))
    if isinstance(
        data, HallConfigured | HallAnnouncement
    ):  # the hall changed: nothing to count but the event
        return Effect(increments=(processed,))
    raise InvalidEventData(f"no rule for {event.type.value}")  # pragma: no cover


def _appointment(branch: str, data: AppointmentData | TicketNear) -> tuple[Increment, ...]:
    """Bookings by outcome: booked, cancelled, checked_in (on time), checked_in_late, expired."""
    if isinstance(data, TicketNear) or data.event_type is EventType.APPOINTMENT_REMINDER_DUE:
        return ()
    outcome = data.event_type.value.removeprefix("appointment.")
    if isinstance(data, AppointmentCheckedIn) and data.late:
        outcome = "checked_in_late"
    by = labels(branch=branch, agency=data.agency_id, service=data.service_id, outcome=outcome)
    return (Increment("qms_appointments_total", by),)


class _Ticket(NamedTuple):
    """What every ticket rule reads: the event, the stored facts and the label sets it counts under."""

    event: CloudEvent
    ticket: TicketFact
    counter: CounterFact | None
    counter_id: str | None
    queue: Labels  # branch, agency, service
    at_counter: Labels  # the same and the counter ("none" without one)

    def counted(self, *increments: Increment) -> tuple[Increment, ...]:
        """``increments`` and the count of processed events, which every event adds to."""
        return (*increments, _PROCESSED[self.event.type])

    def freed(self) -> CounterFact | None:
        """The counter once this ticket left it."""
        return _free(
            self.counter, self.event.branchid, self.counter_id, self.ticket.ticket_id, self.event.time
        )


def _ticket_event(
    event: CloudEvent, data: TicketData, ticket: TicketFact, counter: CounterFact | None
) -> Effect:
    """One rule per ticket event type (the table below), as in the lifecycle table."""
    rule = _TICKET_RULES.get(type(data))
    if rule is None:
        raise InvalidEventData(f"not a ticket event: {event.type.value}")  # pragma: no cover
    counter_id = counter_of(event)
    queue, at_counter = _ticket_labels(event.branchid, ticket.agency_id, ticket.service_id, counter_id)
    return rule(data, _Ticket(event, ticket, counter, counter_id, queue, at_counter))


@functools.lru_cache(maxsize=65536)  # a hall has few queues and counters: built once each, not per event
def _ticket_labels(branch: str, agency: str, service: str, counter_id: str | None) -> tuple[Labels, Labels]:
    """The label sets of a queue, and of the same queue at a counter ("none" without one)."""
    queue = labels(branch=branch, agency=agency, service=service)
    return queue, labels(branch=branch, agency=agency, service=service, counter=counter_id or "none")


def _issued(data: TicketIssued, t: _Ticket) -> Effect:
    fresh = _new_ticket_fields(data, t.ticket)
    branch = t.event.branchid
    issued = labels(branch=branch, agency=fresh.agency_id, service=fresh.service_id, channel=fresh.channel)
    return Effect(
        ticket=fresh,
        queue_key=(branch, fresh.agency_id, fresh.service_id),
        increments=t.counted(Increment("qms_tickets_issued_total", issued)),
    )


def _called(data: TicketCalled, t: _Ticket) -> Effect:
    called_at = data.called_at
    ticket = t.ticket
    updated = ticket._replace(
        status="called",
        counter_id=t.counter_id,
        waiting_since=None,
        first_called_at=ticket.first_called_at or called_at,
        called_at=called_at,
    )
    return Effect(
        ticket=updated,
        counter=_busy(t.counter, t.event.branchid, t.counter_id, ticket.ticket_id, called_at),
        increments=t.counted(Increment("qms_tickets_called_total", t.at_counter)),
        observations=_first_call(ticket, t.queue, called_at),
    )


def _first_call(ticket: TicketFact, queue: Labels, called_at: datetime) -> tuple[Observation, ...]:
    """The wait (and its estimate's error, a booking's punctuality), observed at the first call only."""
    if ticket.first_called_at is not None:
        return ()
    wait = _seconds(ticket.issued_at, called_at)
    observations = [Observation("qms_wait_seconds", queue, wait)]
    if ticket.estimated_wait_seconds is not None:
        error = abs(wait - ticket.estimated_wait_seconds)
        observations.append(Observation("qms_wait_estimate_error_seconds", queue, error))
    if ticket.slot_start is not None:  # a booking: how far from its slot start was it called
        off = abs((called_at - ticket.slot_start).total_seconds())
        observations.append(Observation("qms_slot_punctuality_seconds", queue, off))
    return tuple(observations)


def _recalled(data: TicketRecalled, t: _Ticket) -> Effect:
    return Effect(
        ticket=t.ticket._replace(counter_id=t.counter_id or t.ticket.counter_id),
        increments=t.counted(Increment("qms_tickets_recalled_total", t.at_counter)),
    )


def _serving(data: TicketServing, t: _Ticket) -> Effect:
    serving_at = data.serving_at
    called_at = t.ticket.called_at
    walks = (
        ()
        if called_at is None
        else (Observation("qms_walk_seconds", t.at_counter, _seconds(called_at, serving_at)),)
    )
    serving = t.ticket._replace(status="serving", serving_at=serving_at)
    return Effect(ticket=serving, increments=t.counted(), observations=walks)


def _completed(data: TicketCompleted, t: _Ticket) -> Effect:
    completed_at = data.completed_at
    started = data.serving_at or t.ticket.serving_at
    durations = (
        ()
        if started is None
        else (Observation("qms_service_seconds", t.at_counter, _seconds(started, completed_at)),)
    )
    return Effect(
        ticket=t.ticket._replace(status="completed", serving_at=started, completed_at=completed_at),
        counter=t.freed(),
        increments=t.counted(Increment("qms_tickets_completed_total", t.at_counter)),
        observations=durations,
    )


def _no_show(data: TicketNoShow, t: _Ticket) -> Effect:
    return Effect(
        ticket=t.ticket._replace(status="no_show", waiting_since=None),
        counter=t.freed(),
        increments=t.counted(Increment("qms_tickets_no_show_total", t.at_counter)),
    )


def _parked(data: TicketParked, t: _Ticket) -> Effect:
    # The counter is free while the citizen is away: parked time is neither
    # service nor busy time; a later start begins a new serving span.
    return Effect(
        ticket=t.ticket._replace(status="parked", serving_at=None),
        counter=t.freed(),
        increments=t.counted(Increment("qms_tickets_parked_total", t.at_counter)),
    )


def _back(data: TicketReturned | TicketReactivated, t: _Ticket) -> Effect:
    ticket, at = t.ticket, t.event.time
    back = ticket._replace(status=WAITING, counter_id=None, called_at=None, serving_at=None, waiting_since=at)
    kind = "returned" if isinstance(data, TicketReturned) else "reactivated"
    return Effect(
        ticket=back,
        queue_key=(t.event.branchid, ticket.agency_id, ticket.service_id),
        increments=t.counted(Increment(f"qms_tickets_{kind}_total", t.queue)),
    )


def _transferred(data: TicketTransferred, t: _Ticket) -> Effect:
    agency, service, branch = data.agency_id, data.service_id, t.event.branchid
    moved = t.ticket._replace(
        agency_id=agency,
        service_id=service,
        status=WAITING,
        counter_id=None,
        waiting_since=t.event.time,
    )
    left = labels(branch=branch, agency=data.from_agency_id, service=data.from_service_id)
    return Effect(
        ticket=moved,
        counter=t.freed(),
        queue_key=(branch, agency, service),
        increments=t.counted(Increment("qms_tickets_transferred_total", left)),
    )


def _cancelled(data: TicketCancelled, t: _Ticket) -> Effect:
    ticket = t.ticket
    cancelled = labels(
        branch=t.event.branchid,
        agency=ticket.agency_id,
        service=ticket.service_id,
        channel=ticket.channel,
        reason=data.reason,
    )
    return Effect(
        ticket=ticket._replace(status="cancelled", waiting_since=None),
        increments=t.counted(Increment("qms_tickets_cancelled_total", cancelled)),
    )


_TICKET_RULES: Mapping[type[TicketData], Callable[[Any, _Ticket], Effect]] = {
    TicketIssued: _issued,
    TicketCalled: _called,
    TicketRecalled: _recalled,
    TicketServing: _serving,
    TicketCompleted: _completed,
    TicketNoShow: _no_show,
    TicketParked: _parked,
    TicketReturned: _back,
    TicketReactivated: _back,
    TicketTransferred: _transferred,
    TicketCancelled: _cancelled,
}


def _new_ticket(event: CloudEvent, data: TicketData) -> TicketFact:
    """A ticket first seen through ``event`` (normally its ``ticket.issued``)."""
    issued = data if isinstance(data, TicketIssued) else None
    return TicketFact(
        ticket_id=data.ticket_id,
        branch_id=event.branchid,
        agency_id=data.agency_id,
        service_id=data.service_id,
        channel=data.channel,
        business_date=data.business_date,
        issued_at=data.issued_at,
        status=data.status,
        estimated_wait_seconds=issued.estimated_wait_seconds if issued else None,
        target_wait_seconds=issued.target_wait_seconds if issued else None,
        waiting_since=data.issued_at,
    )


def _new_ticket_fields(data: TicketIssued, ticket: TicketFact) -> TicketFact:
    return ticket._replace(
        status=WAITING,
        estimated_wait_seconds=data.estimated_wait_seconds,
        target_wait_seconds=data.target_wait_seconds,
        waiting_since=ticket.issued_at,
    )


def _counter_event(event: CloudEvent, data: CounterData, counter: CounterFact | None) -> CounterFact:
    at = event.time
    current = counter or CounterFact(event.branchid, data.counter_id)
    current = _stop_idle(current, at)
    if event.type is EventType.COUNTER_OPENED:
        idle_since = at if current.active_ticket_id is None else None
        return current._replace(status="open", idle_since=idle_since)
    status = "paused" if isinstance(data, CounterPaused) else "closed"
    return current._replace(status=status)


def _stop_idle(counter: CounterFact, at: datetime) -> CounterFact:
    if counter.idle_since is None:
        return counter
    idle = counter.idle_seconds + _seconds(counter.idle_since, at)
    return counter._replace(idle_since=None, idle_seconds=idle)


def _busy(
    counter: CounterFact | None, branch: str, counter_id: str | None, ticket_id: str, at: datetime
) -> CounterFact | None:
    if counter_id is None:
        return None
    current = _stop_idle(counter or CounterFact(branch, counter_id), at)
    # Only an open counter can call: a call proves the counter is open.
    return current._replace(status="open", active_ticket_id=ticket_id)


def _free(
    counter: CounterFact | None, branch: str, counter_id: str | None, ticket_id: str, at: datetime
) -> CounterFact | None:
    if counter_id is None:
        return None
    current = counter or CounterFact(branch, counter_id, status="open")
    if current.active_ticket_id not in (None, ticket_id):
        return current  # the counter already moved on to another ticket
    idle_since = at if current.status == "open" and current.idle_since is None else current.idle_since
    return current._replace(active_ticket_id=None, idle_since=idle_since)


def _survey(event: CloudEvent, data: SurveySubmitted) -> Effect:
    survey = SurveyFact(
        ticket_id=data.ticket_id,
        branch_id=event.branchid,
        agency_id=data.agency_id,
        service_id=data.service_id,
        counter_id=data.counter_id,
        submitted_at=data.submitted_at,
        local_date=data.business_date,
        scores=data.scores,
        saran=data.saran,
        **(data.respondent.model_dump() if data.respondent else {}),
    )
    return Effect(survey=survey)


def _seconds(start: datetime, end: datetime) -> float:
    """Seconds from ``start`` to ``end``; clock skew never makes a negative duration."""
    return max(0.0, (end - start).total_seconds())
