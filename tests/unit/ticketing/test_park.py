"""Park and return, no-show reactivation: the pure rules, as state-machine properties.

A small hall of counters runs on the pure domain only (the transition table,
the call-next choice, the windows). Hypothesis drives random sequences of
calls, parks, returns, no-shows, reactivations and clock moves; the
invariants hold after every step. The SQL store is held to the same rules in
tests/integration/ticketing/test_park_api.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.ticketing.domain.calling import Candidate, choose_next
from services.ticketing.domain.lifecycle import (
    ReturnWindow,
    TicketAction,
    TicketStatus,
    check_reactivate,
    check_return,
    park_expired,
    ticket_transition,
)
from services.ticketing.errors import IllegalTransition

S, A = TicketStatus, TicketAction
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
WINDOW = ReturnWindow(park_minutes=15, reactivate_minutes=10)


@given(st.integers(min_value=0, max_value=3 * 60 * 60))
def test_a_return_is_allowed_exactly_within_the_park_window(seconds: int) -> None:
    now = T0 + timedelta(seconds=seconds)
    inside = seconds <= WINDOW.park_minutes * 60
    assert park_expired(WINDOW, parked_at=T0, now=now) is not inside
    if inside:
        check_return(WINDOW, parked_at=T0, now=now)
    else:
        with pytest.raises(IllegalTransition, match="parked more than 15 min"):
            check_return(WINDOW, parked_at=T0, now=now)


@given(st.integers(min_value=0, max_value=3 * 60 * 60))
def test_a_reactivation_is_allowed_exactly_within_its_window(seconds: int) -> None:
    now = T0 + timedelta(seconds=seconds)
    if seconds <= WINDOW.reactivate_minutes * 60:
        check_reactivate(WINDOW, no_show_at=T0, now=now)
    else:
        with pytest.raises(IllegalTransition, match="within 10 min"):
            check_reactivate(WINDOW, no_show_at=T0, now=now)


@pytest.mark.parametrize("status", [s for s in S if s not in (S.CALLED, S.SERVING)])
def test_only_a_ticket_at_a_counter_can_be_parked(status: TicketStatus) -> None:
    with pytest.raises(IllegalTransition):
        ticket_transition(status, A.PARK)


@pytest.mark.parametrize("status", [s for s in S if s is not S.PARKED])
def test_only_a_parked_ticket_returns_or_expires(status: TicketStatus) -> None:
    for action in (A.RETURN, A.EXPIRE):
        with pytest.raises(IllegalTransition):
            ticket_transition(status, action)


@dataclass
class _Ticket:
    ticket_id: str
    queued_at: datetime
    status: TicketStatus = S.WAITING
    counter: str | None = None
    parked_at: datetime | None = None
    no_show_at: datetime | None = None


@dataclass
class _Hall:
    now: datetime = T0
    tickets: dict[str, _Ticket] = field(default_factory=dict)
    active: dict[str, str | None] = field(default_factory=lambda: {"loket-1": None, "loket-2": None})
    queued_at_first_seen: dict[str, datetime] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)


class ParkingHall(RuleBasedStateMachine):
    """Two counters of one service; every move goes through the pure rules."""

    def __init__(self) -> None:
        super().__init__()
        self.hall = _Hall()

    def _of(self, status: TicketStatus) -> list[_Ticket]:
        return sorted(
            (t for t in self.hall.tickets.values() if t.status is status), key=lambda t: t.ticket_id
        )

    @rule()
    def issue(self) -> None:
        ticket_id = f"t{len(self.hall.tickets):03d}"
        self.hall.tickets[ticket_id] = _Ticket(ticket_id, self.hall.now)
        self.hall.queued_at_first_seen[ticket_id] = self.hall.now

    @rule(minutes=st.integers(min_value=0, max_value=20))
    def time_passes(self, minutes: int) -> None:
        self.hall.now += timedelta(minutes=minutes, seconds=1)

    @rule(counter=st.sampled_from(["loket-1", "loket-2"]))
    def call_next(self, counter: str) -> None:
        if self.hall.active[counter] is not None:
            return
        waiting = [
            Candidate(t.ticket_id, "ktp", False, t.queued_at, t.ticket_id) for t in self._of(S.WAITING)
        ]
        pick = choose_next(waiting, ["ktp"], priority_streak=0, max_priority_streak=2)
        if pick is None:
            return
        ticket = self.hall.tickets[pick.ticket_id]
        ticket.status = ticket_transition(ticket.status, A.CALL)
        ticket.counter = counter
        self.hall.active[counter] = ticket.ticket_id
        self.hall.calls.append((counter, ticket.ticket_id))

    @rule(
        counter=st.sampled_from(["loket-1", "loket-2"]), action=st.sampled_from([A.PARK, A.NO_SHOW, A.START])
    )
    def act(self, counter: str, action: TicketAction) -> None:
        ticket_id = self.hall.active[counter]
        if ticket_id is None:
            return
        ticket = self.hall.tickets[ticket_id]
        try:
            ticket.status = ticket_transition(ticket.status, action)
        except IllegalTransition:
            return
        if ticket.status is S.SERVING:
            return
        self.hall.active[counter] = None
        if ticket.status is S.PARKED:
            ticket.parked_at = self.hall.now
        else:
            ticket.no_show_at = self.hall.now

    @precondition(lambda self: bool(self._of(S.PARKED)))
    @rule(data=st.data())
    def give_back(self, data: st.DataObject) -> None:
        ticket = data.draw(st.sampled_from(self._of(S.PARKED)))
        assert ticket.parked_at is not None
        try:
            check_return(WINDOW, parked_at=ticket.parked_at, now=self.hall.now)
        except IllegalTransition:
            assert park_expired(WINDOW, parked_at=ticket.parked_at, now=self.hall.now)
            return
        ticket.status = ticket_transition(ticket.status, A.RETURN)
        ticket.counter = ticket.parked_at = None

    @precondition(lambda self: bool(self._of(S.NO_SHOW)))
    @rule(data=st.data())
    def reactivate(self, data: st.DataObject) -> None:
        ticket = data.draw(st.sampled_from(self._of(S.NO_SHOW)))
        assert ticket.no_show_at is not None
        try:
            check_reactivate(WINDOW, no_show_at=ticket.no_show_at, now=self.hall.now)
        except IllegalTransition:
            assert self.hall.now > WINDOW.reactivate_by(ticket.no_show_at)
            return
        ticket.status = ticket_transition(ticket.status, A.REACTIVATE)
        ticket.counter = ticket.no_show_at = None

    @rule()
    def housekeeping(self) -> None:
        for ticket in self._of(S.PARKED):
            assert ticket.parked_at is not None
            if park_expired(WINDOW, parked_at=ticket.parked_at, now=self.hall.now):
                ticket.status = ticket_transition(ticket.status, A.EXPIRE)
                ticket.no_show_at = self.hall.now

    @invariant()
    def no_ticket_is_at_two_counters(self) -> None:
        held = [t for t in self.hall.active.values() if t is not None]
        assert len(held) == len(set(held))
        for counter, ticket_id in self.hall.active.items():
            if ticket_id is not None:
                assert self.hall.tickets[ticket_id].status in (S.CALLED, S.SERVING)
                assert self.hall.tickets[ticket_id].counter == counter

    @invariant()
    def parked_and_no_show_tickets_occupy_no_counter(self) -> None:
        for ticket in self.hall.tickets.values():
            if ticket.status in (S.PARKED, S.NO_SHOW, S.WAITING):
                assert ticket.ticket_id not in self.hall.active.values()

    @invariant()
    def every_ticket_keeps_its_place(self) -> None:
        for ticket in self.hall.tickets.values():
            assert ticket.queued_at == self.hall.queued_at_first_seen[ticket.ticket_id]

    @invariant()
    def a_returned_ticket_is_called_before_anyone_who_came_later(self) -> None:
        waiting = self._of(S.WAITING)
        if waiting:
            head = min(waiting, key=lambda t: (t.queued_at, t.ticket_id))
            candidates = [Candidate(t.ticket_id, "ktp", False, t.queued_at, t.ticket_id) for t in waiting]
            pick = choose_next(candidates, ["ktp"], priority_streak=0, max_priority_streak=2)
            assert pick is not None
            assert pick.ticket_id == head.ticket_id


ParkingHall.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestParkingHall = ParkingHall.TestCase
