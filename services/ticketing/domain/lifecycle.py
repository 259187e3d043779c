"""The ticket and counter state machines, as pure transition functions.

Ticket::

    waiting ──call──► called ──recall──► called (recall_count + 1)
       │                 ├──start──► serving ──complete──► completed
       │                 └──no_show──► no_show   (after enough recalls and time)
       │                               serving ──transfer──► waiting (another service)
       └──cancel──► cancelled

    called / serving ──park──► parked ──return──► waiting   (keeps queued_at: its old place)
                               parked ──expire──► no_show   (the park window passed)
    no_show ──reactivate──► waiting   (within the reactivation window; keeps queued_at)

A parked ticket is not waiting, so call-next never picks it; once returned or
reactivated it waits again and call-next takes it under the same row lock as
any other ticket, so it is never called by two counters.

Counter::

    closed ──open──► open ──pause──► paused ──open──► open
    open / paused ──close──► closed

Every other move raises :class:`~services.ticketing.errors.IllegalTransition`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.ticketing.errors import IllegalTransition


class TicketStatus(enum.StrEnum):
    """Where a ticket stands."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    PARKED = "parked"

    @property
    def is_final(self) -> bool:
        """Completed, no-show and cancelled tickets stay (only a fresh no-show may be reactivated)."""
        return self in _FINAL

    @property
    def is_active(self) -> bool:
        """Called or serving: the ticket occupies a counter (a parked one does not)."""
        return self in (TicketStatus.CALLED, TicketStatus.SERVING)


_FINAL = frozenset({TicketStatus.COMPLETED, TicketStatus.NO_SHOW, TicketStatus.CANCELLED})


class TicketAction(enum.StrEnum):
    """What can happen to a ticket."""

    CALL = "call"
    RECALL = "recall"
    START = "start"
    COMPLETE = "complete"
    NO_SHOW = "no-show"
    TRANSFER = "transfer"
    CANCEL = "cancel"
    PARK = "park"
    RETURN = "return"
    EXPIRE = "expire"
    REACTIVATE = "reactivate"


_TICKET_MOVES: dict[tuple[TicketStatus, TicketAction], TicketStatus] = {
    (TicketStatus.WAITING, TicketAction.CALL): TicketStatus.CALLED,
    (TicketStatus.WAITING, TicketAction.CANCEL): TicketStatus.CANCELLED,
    (TicketStatus.CALLED, TicketAction.RECALL): TicketStatus.CALLED,
    (TicketStatus.CALLED, TicketAction.START): TicketStatus.SERVING,
    (TicketStatus.CALLED, TicketAction.NO_SHOW): TicketStatus.NO_SHOW,
    (TicketStatus.SERVING, TicketAction.COMPLETE): TicketStatus.COMPLETED,
    (TicketStatus.SERVING, TicketAction.TRANSFER): TicketStatus.WAITING,
    (TicketStatus.CALLED, TicketAction.PARK): TicketStatus.PARKED,
    (TicketStatus.SERVING, TicketAction.PARK): TicketStatus.PARKED,
    (TicketStatus.PARKED, TicketAction.RETURN): TicketStatus.WAITING,
    (TicketStatus.PARKED, TicketAction.EXPIRE): TicketStatus.NO_SHOW,
    (TicketStatus.NO_SHOW, TicketAction.REACTIVATE): TicketStatus.WAITING,
}


@dataclass(frozen=True, slots=True)
class ReturnWindow:
    """How long a parked ticket may come back, and a no-show be reactivated (minutes)."""

    park_minutes: int = 15
    reactivate_minutes: int = 10

    def return_by(self, parked_at: datetime) -> datetime:
        """The last moment a ticket parked at ``parked_at`` may return."""
        return parked_at + timedelta(minutes=self.park_minutes)

    def reactivate_by(self, no_show_at: datetime) -> datetime:
        """The last moment a no-show marked at ``no_show_at`` may be reactivated."""
        return no_show_at + timedelta(minutes=self.reactivate_minutes)


def check_return(window: ReturnWindow, *, parked_at: datetime, now: datetime) -> None:
    """Raise IllegalTransition when the park window is over (housekeeping turns it into a no-show)."""
    if now > window.return_by(parked_at):
        raise IllegalTransition(
            f"the ticket was parked more than {window.park_minutes} min ago; it can no longer return"
        )


def check_reactivate(window: ReturnWindow, *, no_show_at: datetime, now: datetime) -> None:
    """Raise IllegalTransition when a no-show is too old to be reactivated."""
    if now > window.reactivate_by(no_show_at):
        raise IllegalTransition(
            f"a no-show can be reactivated within {window.reactivate_minutes} min; this one is older"
        )


def park_expired(window: ReturnWindow, *, parked_at: datetime, now: datetime) -> bool:
    """True when housekeeping should turn a parked ticket into a no-show."""
    return now > window.return_by(parked_at)


@dataclass(frozen=True, slots=True)
class NoShowRule:
    """A no-show may be marked only after ``min_recalls`` recalls and ``min_seconds`` since the call.

    "The call" is the current call to the counter (``called_at``; a recall does
    not move it), not the ticket's first call ever: a ticket transferred and
    called again at another counter gets the full time there.
    """

    min_recalls: int = 2
    min_seconds: int = 120


def ticket_transition(status: TicketStatus, action: TicketAction) -> TicketStatus:
    """The status after ``action``; IllegalTransition when the machine refuses it."""
    try:
        return _TICKET_MOVES[(status, action)]
    except KeyError:
        raise IllegalTransition(f"a ticket that is {status.value} cannot {action.value}") from None


def check_no_show(rule: NoShowRule, *, recall_count: int, called_at: datetime, now: datetime) -> None:
    """Raise IllegalTransition unless the ticket was recalled and waited long enough."""
    if recall_count < rule.min_recalls:
        raise IllegalTransition(
            f"no-show needs at least {rule.min_recalls} recall(s) first; this ticket has {recall_count}"
        )
    earliest = called_at + timedelta(seconds=rule.min_seconds)
    if now < earliest:
        left = int((earliest - now).total_seconds()) + 1
        raise IllegalTransition(f"no-show is allowed {rule.min_seconds} s after the call; wait {left} s more")


class CounterStatus(enum.StrEnum):
    """Whether a counter is serving."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class CounterAction(enum.StrEnum):
    """What an operator can do with the counter itself."""

    OPEN = "open"
    PAUSE = "pause"
    CLOSE = "close"


_COUNTER_MOVES: dict[tuple[CounterStatus, CounterAction], CounterStatus] = {
    (CounterStatus.CLOSED, CounterAction.OPEN): CounterStatus.OPEN,
    (CounterStatus.PAUSED, CounterAction.OPEN): CounterStatus.OPEN,
    (CounterStatus.OPEN, CounterAction.PAUSE): CounterStatus.PAUSED,
    (CounterStatus.OPEN, CounterAction.CLOSE): CounterStatus.CLOSED,
    (CounterStatus.PAUSED, CounterAction.CLOSE): CounterStatus.CLOSED,
}


def counter_transition(
    status: CounterStatus, action: CounterAction, *, has_active_ticket: bool
) -> CounterStatus:
    """The counter's status after ``action``; a counter with an active ticket may not pause or close."""
    try:
        after = _COUNTER_MOVES[(status, action)]
    except KeyError:
        raise IllegalTransition(f"a counter that is {status.value} cannot {action.value}") from None
    if has_active_ticket and after is not CounterStatus.OPEN:
        raise IllegalTransition(f"finish the active ticket before you {action.value} the counter")
    return after


def check_can_call(status: CounterStatus, *, has_active_ticket: bool) -> None:
    """A counter calls only when open and free: it finishes one ticket before the next."""
    if status is not CounterStatus.OPEN:
        raise IllegalTransition(f"the counter is {status.value}; open it before calling")
    if has_active_ticket:
        raise IllegalTransition(
            "the counter already has an active ticket; complete, mark no-show or transfer it first"
        )
