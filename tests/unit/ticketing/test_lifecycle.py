"""The ticket and counter state machines: every legal move, every illegal one refused."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.lifecycle import (
    CounterAction,
    CounterStatus,
    NoShowRule,
    TicketAction,
    TicketStatus,
    check_can_call,
    check_no_show,
    counter_transition,
    ticket_transition,
)
from services.ticketing.errors import IllegalTransition

S, A = TicketStatus, TicketAction
LEGAL = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.CANCEL): S.CANCELLED,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.START): S.SERVING,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.SERVING, A.COMPLETE): S.COMPLETED,
    (S.SERVING, A.TRANSFER): S.WAITING,
    (S.CALLED, A.PARK): S.PARKED,
    (S.SERVING, A.PARK): S.PARKED,
    (S.PARKED, A.RETURN): S.WAITING,
    (S.PARKED, A.EXPIRE): S.NO_SHOW,
    (S.NO_SHOW, A.REACTIVATE): S.WAITING,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_transition_table(status: TicketStatus, action: TicketAction) -> None:
    if (status, action) in LEGAL:
        assert ticket_transition(status, action) is LEGAL[(status, action)]
    else:
        with pytest.raises(IllegalTransition, match=status.value):
            ticket_transition(status, action)


@given(st.lists(st.sampled_from(list(A)), max_size=40))
def test_any_sequence_of_moves_keeps_the_machine_sound(actions: list[TicketAction]) -> None:
    status = S.WAITING
    for action in actions:
        try:
            after = ticket_transition(status, action)
        except IllegalTransition:
            assert (status, action) not in LEGAL
            continue
        assert not status.is_final or (status, action) == (S.NO_SHOW, A.REACTIVATE), "a final ticket moved"
        if action is A.TRANSFER:
            assert after is S.WAITING
        status = after
    assert isinstance(status, TicketStatus)


@given(st.lists(st.sampled_from(list(A)), max_size=40))
def test_final_states_absorb(actions: list[TicketAction]) -> None:
    for final in (S.COMPLETED, S.NO_SHOW, S.CANCELLED):
        for action in actions:
            if (final, action) == (S.NO_SHOW, A.REACTIVATE):
                continue  # the one way back, within the reactivation window
            with pytest.raises(IllegalTransition):
                ticket_transition(final, action)


def test_no_show_needs_recalls_and_time() -> None:
    rule = NoShowRule(min_recalls=2, min_seconds=120)
    first = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    with pytest.raises(IllegalTransition, match="recall"):
        check_no_show(rule, recall_count=1, called_at=first, now=first + timedelta(hours=1))
    with pytest.raises(IllegalTransition, match="wait"):
        check_no_show(rule, recall_count=2, called_at=first, now=first + timedelta(seconds=119))
    check_no_show(rule, recall_count=2, called_at=first, now=first + timedelta(seconds=120))


C, CA = CounterStatus, CounterAction


@pytest.mark.parametrize("status", list(C))
@pytest.mark.parametrize("action", list(CA))
def test_counter_machine(status: CounterStatus, action: CounterAction) -> None:
    legal = {
        (C.CLOSED, CA.OPEN): C.OPEN,
        (C.PAUSED, CA.OPEN): C.OPEN,
        (C.OPEN, CA.PAUSE): C.PAUSED,
        (C.OPEN, CA.CLOSE): C.CLOSED,
        (C.PAUSED, CA.CLOSE): C.CLOSED,
    }
    if (status, action) in legal:
        assert counter_transition(status, action, has_active_ticket=False) is legal[(status, action)]
    else:
        with pytest.raises(IllegalTransition):
            counter_transition(status, action, has_active_ticket=False)


def test_counter_with_active_ticket_cannot_pause_or_close() -> None:
    with pytest.raises(IllegalTransition, match="finish"):
        counter_transition(C.OPEN, CA.PAUSE, has_active_ticket=True)
    with pytest.raises(IllegalTransition, match="finish"):
        counter_transition(C.OPEN, CA.CLOSE, has_active_ticket=True)


def test_call_needs_an_open_free_counter() -> None:
    check_can_call(C.OPEN, has_active_ticket=False)
    with pytest.raises(IllegalTransition, match="paused"):
        check_can_call(C.PAUSED, has_active_ticket=False)
    with pytest.raises(IllegalTransition, match="active ticket"):
        check_can_call(C.OPEN, has_active_ticket=True)
