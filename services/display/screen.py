"""The hall screen as a pure fold of events: no I/O, time is an input.

``fold(screen, event, today=...)`` folds one event into a branch's
:class:`BranchScreen` (the state only, cheap enough for a day's rebuild) and
:func:`change` makes the message a live screen must show; ``apply`` does both
and returns ``None`` when the event changes nothing visible. The per-branch ``sequence``
makes the fold idempotent: an event whose sequence is not above the last one
applied is a duplicate or a replay and is ignored, so feeding the same events
twice changes nothing. A gap (a sequence that skips ahead, e.g. a forged
999999999) is not trusted: ``apply`` raises :class:`SequenceGapError` and
changes nothing, and the consumer re-reads the branch from the log, where
:func:`trusted_chain` keeps the longest contiguous run of sequences.

Only the branch's current business day is kept: every event's data carries
its ``business_date``. An event for a later day empties the screen first
(the rollover at local midnight needs no job); events of an earlier day are
skipped. The data was parsed by its type's model when the event was decoded
(``services.events``): the fold reads typed fields only.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from services.display.announce import MAX_ANNOUNCEMENT, announcement
from services.display.errors import ScreenError, SequenceGapError
from services.events import (
    CloudEvent,
    CounterData,
    EventType,
    HallAnnouncement,
    TicketCalled,
    TicketData,
    TicketRecalled,
)

RECENT_CALLS = 10
"""How many calls the screen keeps, newest first."""


@dataclass
class CounterView:
    """One counter as the hall sees it."""

    counter_id: str
    name: str
    zone: str | None = None
    status: str = "closed"
    number: str | None = None
    ticket_id: str | None = None
    ticket_status: str | None = None
    service_name: str | None = None
    agency_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The counter as sent to screens."""
        return {
            "counter_id": self.counter_id,
            "name": self.name,
            "zone": self.zone,
            "status": self.status,
            "number": self.number,
            "ticket_status": self.ticket_status,
            "service_name": self.service_name,
            "agency_name": self.agency_name,
        }


@dataclass(frozen=True)
class Call:
    """One call or recall of a ticket to a counter."""

    seq: int
    number: str
    counter_id: str
    counter_name: str
    zone: str | None
    agency_name: str | None
    time: str
    recall: bool
    announcement: str

    def to_json(self) -> dict[str, Any]:
        """The call as sent to screens."""
        return {
            "seq": self.seq,
            "number": self.number,
            "counter_id": self.counter_id,
            "counter_name": self.counter_name,
            "zone": self.zone,
            "agency_name": self.agency_name,
            "time": self.time,
            "recall": self.recall,
            "announcement": self.announcement,
        }


@dataclass
class BranchScreen:
    """Everything one branch's screens show for its current business day."""

    branch_id: str
    seq: int = 0
    business_date: date | None = None
    counters: dict[str, CounterView] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)  # ticket → (service, agency)
    service_names: dict[str, str] = field(default_factory=dict)
    agency_names: dict[str, str] = field(default_factory=dict)

    def clear_day(self, business_date: date) -> None:
        """Start an empty business day (the sequence carries on)."""
        self.business_date = business_date
        self.counters.clear()
        self.calls.clear()
        self.waiting.clear()


@dataclass(frozen=True)
class Folded:
    """One event folded into a branch's state: what its live message is made from."""

    event: CloudEvent
    fields: _Fields
    call: Call | None
    reset: bool


@dataclass(frozen=True)
class Change:
    """What one applied event changed, ready to become a screen message."""

    type: str
    seq: int
    zone: str | None
    message: dict[str, Any]
    call: Call | None = None
    reset: bool = False


@dataclass(frozen=True)
class CounterInfo:
    """A counter from the branch directory."""

    counter_id: str
    name: str
    zone: str | None


@dataclass(frozen=True)
class BranchInfo:
    """The branch directory entry a screen needs (from ticketing)."""

    branch_id: str
    name: str
    timezone: str
    counters: tuple[CounterInfo, ...] = ()
    agencies: Mapping[str, str] = field(default_factory=dict)


def parse_branch(obj: object) -> BranchInfo:
    """Read ticketing's ``GET /api/v1/branches/{id}`` body; raise ScreenError if it is not one."""
    if not isinstance(obj, dict):
        raise ScreenError("branch must be a JSON object")
    try:
        counters = tuple(
            CounterInfo(str(c["id"]), str(c["name"]), None if c.get("zone") is None else str(c["zone"]))
            for c in obj.get("counters", [])
        )
        agencies = {str(a["id"]): str(a["name"]) for a in obj.get("agencies", [])}
        return BranchInfo(str(obj["id"]), str(obj["name"]), str(obj["timezone"]), counters, agencies)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ScreenError(f"branch directory entry lacks {exc}") from exc


def fold(screen: BranchScreen, event: CloudEvent, *, today: date) -> Folded | None:
    """Fold one event into ``screen`` (the state only); return what it did, or None if nothing shows.

    Everything is checked before anything changes: an event refused with
    ScreenError leaves ``screen`` exactly as it was (its sequence too). No screen
    message is built here: a rebuild folds a whole day and renders once at the end.
    """
    if event.sequence <= screen.seq:
        return None
    if screen.seq and event.sequence != screen.seq + 1:
        raise SequenceGapError(f"sequence {event.sequence} does not follow {screen.seq}")
    day = event.data.business_date
    if day < today:
        screen.seq = event.sequence
        return None
    fields = _fields(event)
    reset = screen.business_date is not None and day > screen.business_date
    if screen.business_date is None or reset:
        screen.clear_day(day)
    handler = _HANDLERS.get(event.type)
    call = handler(screen, event, fields) if handler is not None else None
    screen.seq = event.sequence
    if handler is None and not reset:
        return None
    return Folded(event, fields, call, reset)


def change(screen: BranchScreen, folded: Folded) -> Change:
    """The message a live screen is sent for an event just folded into ``screen``."""
    event, fields, call = folded.event, folded.fields, folded.call
    counter = screen.counters.get(fields.counter_id) if fields.counter_id else None
    message: dict[str, Any] = {
        "type": event.type.value,
        "seq": event.sequence,
        "number": fields.number,
        "counter_id": fields.counter_id,
        "counter_name": counter.name if counter else fields.counter_name,
        "zone": fields.zone,
        "counter": counter.to_json() if counter else None,
        "waiting": waiting_counts(screen),
        "counters_open": counters_open(screen),
    }
    if isinstance(event.data, HallAnnouncement):
        data = event.data
        message["hall_announcement"] = {
            "text": data.text, "mode": data.mode, "until": data.until.isoformat() if data.until else None,
        }  # fmt: skip
    if call is not None:
        message["announcement"] = call.announcement
        message["recall"] = call.recall
        message["call"] = call.to_json()
    return Change(event.type.value, event.sequence, fields.zone, message, call, folded.reset)


def apply(screen: BranchScreen, event: CloudEvent, *, today: date) -> Change | None:
    """Fold one event into ``screen`` and return the message it makes, or None (see :func:`fold`)."""
    folded = fold(screen, event, today=today)
    return None if folded is None else change(screen, folded)


def spend(screen: BranchScreen, sequence: int) -> None:
    """Count the next sequence as used by an event that could not be shown (so the next is no gap)."""
    if sequence == screen.seq + 1 or not screen.seq:
        screen.seq = sequence


def trusted_chain(
    events: list[CloudEvent], spent: Collection[int] = ()
) -> tuple[list[CloudEvent], list[CloudEvent]]:
    """Split one branch's events read from the log into the trusted chain and the rest.

    For each sequence the first event in the log counts; the chain is the longest run
    of consecutive sequences (the lowest on a tie), in sequence order: ticketing hands
    out each branch's sequences without holes, so a lone far-ahead or stray sequence
    is not part of it. ``spent`` are the sequences of the branch's records that could
    not be read (dead-lettered): they link a run without being in the chain.
    Rejected: every other event, once per id (a replay, with a kept event's id and
    sequence, is not).
    """
    first: dict[int, CloudEvent] = {}
    for event in events:
        first.setdefault(event.sequence, event)
    runs: list[list[int]] = []
    for seq in sorted(set(first) | set(spent)):
        if runs and runs[-1][-1] == seq - 1:
            runs[-1].append(seq)
        else:
            runs.append([seq])
    if not runs:
        return [], []
    best = max(runs, key=lambda run: sum(seq in first for seq in run))  # the first of equals: the lowest
    chain = [first[seq] for seq in best if seq in first]
    kept = {(e.id, e.sequence) for e in chain}
    rejected: dict[tuple[str, int], CloudEvent] = {}
    for event in events:  # a replay repeats a kept event's id and sequence; anything else is refused once
        if (event.id, event.sequence) not in kept:
            rejected.setdefault((event.id, event.sequence), event)
    return chain, list(rejected.values())


def view_of(screen: BranchScreen, today: date) -> BranchScreen:
    """The screen as of ``today``: an empty day once the stored day is over."""
    if screen.business_date is not None and screen.business_date >= today:
        return screen
    return BranchScreen(screen.branch_id, seq=screen.seq, business_date=today)


def waiting_counts(screen: BranchScreen) -> dict[str, Any]:
    """Waiting tickets per agency and per service."""
    agencies: dict[str, int] = {}
    services: dict[str, int] = {}
    for service_id, agency_id in screen.waiting.values():
        agencies[agency_id] = agencies.get(agency_id, 0) + 1
        services[service_id] = services.get(service_id, 0) + 1
    return {
        "agencies": [
            {"agency_id": a, "name": screen.agency_names.get(a, a), "waiting": n}
            for a, n in sorted(agencies.items())
        ],
        "services": [
            {"service_id": s, "name": screen.service_names.get(s, s), "waiting": n}
            for s, n in sorted(services.items())
        ],
        "total": len(screen.waiting),
    }


def counters_open(screen: BranchScreen) -> int:
    """How many counters are open now."""
    return sum(1 for c in screen.counters.values() if c.status == "open")


def snapshot(
    screen: BranchScreen, *, today: date, zone: str | None = None, info: BranchInfo | None = None
) -> dict[str, Any]:
    """The full screen state (``type`` "snapshot"), optionally narrowed to one zone."""
    view = view_of(screen, today)
    counters = dict(view.counters)
    if info is not None:
        for c in info.counters:
            counters.setdefault(c.counter_id, CounterView(c.counter_id, c.name, c.zone))
    shown = [c for c in counters.values() if zone is None or c.zone == zone]
    shown.sort(key=lambda c: _natural(c.name))
    calls = [c.to_json() for c in view.calls if zone is None or c.zone == zone]
    return {
        "type": "snapshot",
        "seq": screen.seq,
        "branch_id": screen.branch_id,
        "business_date": (view.business_date or today).isoformat(),
        "zone": zone,
        "counters": [c.to_json() for c in shown],
        "calls": calls,
        "waiting": waiting_counts(view),
        "counters_open": counters_open(view),
    }


def _natural(text: str) -> list[Any]:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in _SPLIT.split(text)]


_SPLIT = re.compile(r"(\d+)")


class _Fields(NamedTuple):
    """The data fields the fold reads, all checked before the screen changes."""

    ticket_id: str | None = None
    number: str | None = None
    counter_id: str | None = None
    counter_name: str | None = None
    zone: str | None = None
    service_id: str | None = None
    agency_id: str | None = None
    service_name: str | None = None
    agency_name: str | None = None
    announcement: str | None = None


def _fields(event: CloudEvent) -> _Fields:
    """The typed fields the fold uses, and the announcement; raise ScreenError, change nothing."""
    data = event.data
    if isinstance(data, TicketCalled | TicketRecalled):
        spoken = announcement(data.number, data.counter_name, recall=isinstance(data, TicketRecalled))
        if len(spoken) > MAX_ANNOUNCEMENT:
            raise ScreenError(f"the announcement would be longer than {MAX_ANNOUNCEMENT} characters")
    else:
        spoken = None
    if isinstance(data, TicketData):
        return _Fields(
            data.ticket_id, data.number, data.counter_id, data.counter_name, data.zone,
            data.service_id, data.agency_id, data.service_name, data.agency_name, spoken,
        )  # fmt: skip
    if isinstance(data, CounterData):
        return _Fields(counter_id=data.counter_id, counter_name=data.counter_name, zone=data.zone)
    return _Fields()


def _given(value: str | None) -> str:
    # Only for fields the handler's data model requires: never raises for a decoded event.
    if not value:
        raise ScreenError("a required field is missing")
    return value


def _learn_names(screen: BranchScreen, f: _Fields) -> None:
    if f.service_id and f.service_name:
        screen.service_names[f.service_id] = f.service_name
    if f.agency_id and f.agency_name:
        screen.agency_names[f.agency_id] = f.agency_name


def _counter(screen: BranchScreen, f: _Fields) -> CounterView:
    counter_id = _given(f.counter_id)
    name = f.counter_name or counter_id
    view = screen.counters.get(counter_id)
    if view is None:
        view = screen.counters[counter_id] = CounterView(counter_id, name, f.zone, status="open")
    view.name, view.zone = name, f.zone if f.zone is not None else view.zone
    return view


def _on_issued(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    _learn_names(screen, f)
    screen.waiting[_given(f.ticket_id)] = (_given(f.service_id), _given(f.agency_id))
    return None


def _on_called(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    ticket_id, number = _given(f.ticket_id), _given(f.number)
    _learn_names(screen, f)
    counter = _counter(screen, f)
    for other in screen.counters.values():
        if other is not counter and other.ticket_id == ticket_id:
            other.number = other.ticket_id = other.ticket_status = None
    screen.waiting.pop(ticket_id, None)
    counter.number, counter.ticket_id, counter.ticket_status = number, ticket_id, "called"
    counter.service_name, counter.agency_name = f.service_name, f.agency_name
    call = Call(
        seq=event.sequence,
        number=number,
        counter_id=counter.counter_id,
        counter_name=counter.name,
        zone=counter.zone,
        agency_name=counter.agency_name,
        time=event.time.isoformat(),
        recall=event.type is EventType.TICKET_RECALLED,
        announcement=_given(f.announcement),
    )
    screen.calls.insert(0, call)
    del screen.calls[RECENT_CALLS:]
    return call


def _on_ticket_at_counter(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    ticket_id = _given(f.ticket_id)
    counter = _counter(screen, f)
    if counter.ticket_id in (None, ticket_id):
        counter.number, counter.ticket_id = _given(f.number), ticket_id
        counter.ticket_status = _TICKET_STATUS[event.type]
    return None


def _on_transferred(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    ticket_id = _given(f.ticket_id)
    _learn_names(screen, f)
    for counter in screen.counters.values():
        if counter.ticket_id == ticket_id:
            counter.ticket_status = "transferred"
    screen.waiting[ticket_id] = (_given(f.service_id), _given(f.agency_id))
    return None


def _on_cancelled(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    screen.waiting.pop(_given(f.ticket_id), None)
    return None


def _on_counter(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    counter = _counter(screen, f)
    counter.status = _COUNTER_STATUS[event.type]
    if event.type is EventType.COUNTER_CLOSED:
        counter.number = counter.ticket_id = counter.ticket_status = None
    return None


def _on_requeued(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    """A parked ticket returned, or a no-show reactivated: it waits again (no counter holds it)."""
    _learn_names(screen, f)
    screen.waiting[_given(f.ticket_id)] = (_given(f.service_id), _given(f.agency_id))
    return None


def _on_hall_changed(screen: BranchScreen, event: CloudEvent, f: _Fields) -> Call | None:
    # Nothing of the fold changes: the message tells screens (a new counter, a running text).
    return None


_TICKET_STATUS = {
    EventType.TICKET_SERVING: "serving",
    EventType.TICKET_COMPLETED: "completed",
    EventType.TICKET_NO_SHOW: "no_show",
    EventType.TICKET_PARKED: "parked",
}
_COUNTER_STATUS = {
    EventType.COUNTER_OPENED: "open",
    EventType.COUNTER_PAUSED: "paused",
    EventType.COUNTER_CLOSED: "closed",
}
_HANDLERS = {
    EventType.TICKET_ISSUED: _on_issued,
    EventType.TICKET_CALLED: _on_called,
    EventType.TICKET_RECALLED: _on_called,
    EventType.TICKET_SERVING: _on_ticket_at_counter,
    EventType.TICKET_COMPLETED: _on_ticket_at_counter,
    EventType.TICKET_NO_SHOW: _on_ticket_at_counter,
    EventType.TICKET_TRANSFERRED: _on_transferred,
    EventType.TICKET_CANCELLED: _on_cancelled,
    EventType.COUNTER_OPENED: _on_counter,
    EventType.COUNTER_PAUSED: _on_counter,
    EventType.COUNTER_CLOSED: _on_counter,
    EventType.TICKET_PARKED: _on_ticket_at_counter,
    EventType.TICKET_RETURNED: _on_requeued,
    EventType.TICKET_REACTIVATED: _on_requeued,
    EventType.HALL_CONFIGURED: _on_hall_changed,
    EventType.HALL_ANNOUNCEMENT: _on_hall_changed,
}
