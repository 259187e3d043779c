"""Folding events into ticket, counter and survey facts, counts and observations."""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.events import EventType, InvalidDataError
from services.metrics.aggregates import (
    CounterFact,
    Effect,
    Increment,
    Observation,
    TicketFact,
    fold,
    labels,
)
from services.metrics.reports import daily_report
from tests.unit.metrics.events import at, counter_event, survey_event, ticket_event

WITA = ZoneInfo("Asia/Makassar")
QUEUE = labels(branch="bjb", agency="disdukcapil", service="ktp")
AT_COUNTER = labels(branch="bjb", agency="disdukcapil", service="ktp", counter="loket-1")


def _counts(effect: Effect) -> dict[str, float]:
    return {i.metric: i.amount for i in effect.increments}


def test_issued_creates_a_waiting_ticket_and_counts_it() -> None:
    effect = fold(
        ticket_event(EventType.TICKET_ISSUED, 0, estimated_wait_seconds=600, target_wait_seconds=900),
        None,
        None,
    )
    assert effect.ticket is not None
    assert effect.ticket.status == "waiting"
    assert effect.ticket.waiting_since == at(0)
    assert effect.ticket.business_date == date(2026, 11, 28)
    assert effect.ticket.estimated_wait_seconds == 600
    assert effect.queue_key == ("bjb", "disdukcapil", "ktp")
    channel = labels(branch="bjb", agency="disdukcapil", service="ktp", channel="kiosk")
    assert Increment("qms_tickets_issued_total", channel) in effect.increments
    assert Increment("qms_events_processed_total", labels(type="ticket.issued")) in effect.increments


def _issued() -> TicketFact:
    effect = fold(ticket_event(EventType.TICKET_ISSUED, 0, estimated_wait_seconds=600), None, None)
    assert effect.ticket is not None
    return effect.ticket


def test_first_call_observes_wait_and_estimate_error() -> None:
    counter = CounterFact("bjb", "loket-1", status="open", idle_since=at(0))
    effect = fold(ticket_event(EventType.TICKET_CALLED, 12, counter="loket-1"), _issued(), counter)
    # Waited 12 minutes = 720 s; the estimate was 600 s, so the error is 120 s.
    assert Observation("qms_wait_seconds", QUEUE, 720.0) in effect.observations
    assert Observation("qms_wait_estimate_error_seconds", QUEUE, 120.0) in effect.observations
    assert Increment("qms_tickets_called_total", AT_COUNTER) in effect.increments
    assert effect.counter == CounterFact("bjb", "loket-1", "open", "t-1", None, 720.0)
    assert effect.ticket is not None
    assert effect.ticket.first_called_at == at(12)


def test_a_second_call_does_not_observe_wait_again() -> None:
    first = fold(ticket_event(EventType.TICKET_CALLED, 5, counter="loket-1"), _issued(), None)
    again = fold(ticket_event(EventType.TICKET_CALLED, 30, counter="loket-1"), first.ticket, first.counter)
    assert [o.metric for o in again.observations] == []
    assert again.ticket is not None
    assert again.ticket.first_called_at == at(5)


def test_recall_counts_separately() -> None:
    called = fold(ticket_event(EventType.TICKET_CALLED, 5, counter="loket-1"), _issued(), None)
    effect = fold(
        ticket_event(EventType.TICKET_RECALLED, 6, counter="loket-1", recall_count=1), called.ticket, None
    )
    assert _counts(effect).get("qms_tickets_recalled_total") == 1
    assert "qms_tickets_called_total" not in _counts(effect)


def test_walk_and_service_times() -> None:
    called = fold(ticket_event(EventType.TICKET_CALLED, 10, counter="loket-1"), _issued(), None)
    serving = fold(
        ticket_event(EventType.TICKET_SERVING, 10.5, counter="loket-1", serving_at=at(10.5).isoformat()),
        called.ticket,
        called.counter,
    )
    assert serving.observations == (Observation("qms_walk_seconds", AT_COUNTER, 30.0),)
    done = fold(
        ticket_event(EventType.TICKET_COMPLETED, 18.5, counter="loket-1", completed_at=at(18.5).isoformat()),
        serving.ticket,
        called.counter,
    )
    assert done.observations == (Observation("qms_service_seconds", AT_COUNTER, 480.0),)
    assert _counts(done)["qms_tickets_completed_total"] == 1
    # The counter is free again and idle from the completion on.
    assert done.counter is not None
    assert done.counter.active_ticket_id is None
    assert done.counter.idle_since == at(18.5)


def test_no_show_frees_the_counter() -> None:
    called = fold(ticket_event(EventType.TICKET_CALLED, 10, counter="loket-1"), _issued(), None)
    effect = fold(
        ticket_event(EventType.TICKET_NO_SHOW, 13, counter="loket-1"), called.ticket, called.counter
    )
    assert effect.ticket is not None
    assert effect.ticket.status == "no_show"
    assert _counts(effect)["qms_tickets_no_show_total"] == 1
    assert effect.counter is not None
    assert effect.counter.idle_since == at(13)


def test_transfer_counts_the_service_left_and_waits_again() -> None:
    called = fold(ticket_event(EventType.TICKET_CALLED, 10, counter="loket-1"), _issued(), None)
    effect = fold(
        ticket_event(
            EventType.TICKET_TRANSFERRED,
            15,
            agency="bpjs",
            service="jkn",
            counter=None,
            from_service_id="ktp",
            from_agency_id="disdukcapil",
            from_counter_id="loket-1",
        ),
        called.ticket,
        called.counter,
    )
    left = labels(branch="bjb", agency="disdukcapil", service="ktp")
    assert Increment("qms_tickets_transferred_total", left) in effect.increments
    assert effect.ticket is not None
    assert (effect.ticket.status, effect.ticket.service_id, effect.ticket.waiting_since) == (
        "waiting",
        "jkn",
        at(15),
    )
    assert effect.queue_key == ("bjb", "bpjs", "jkn")
    assert effect.counter is not None
    assert effect.counter.counter_id == "loket-1"
    assert effect.counter.active_ticket_id is None


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({}, "citizen"),  # events from before the day close carry no reason
        ({"reason": "citizen"}, "citizen"),
        ({"reason": "day_closed"}, "day_closed"),
    ],
)
def test_cancel_counts_by_channel_and_reason(extra: dict[str, Any], reason: str) -> None:
    effect = fold(ticket_event(EventType.TICKET_CANCELLED, 3, **extra), _issued(), None)
    channel = labels(branch="bjb", agency="disdukcapil", service="ktp", channel="kiosk", reason=reason)
    counted = [i for i in effect.increments if i.metric == "qms_tickets_cancelled_total"]
    assert counted == [Increment("qms_tickets_cancelled_total", channel)]
    assert effect.ticket is not None
    assert effect.ticket.waiting_since is None


@pytest.mark.parametrize("reason", [7, None, "moved abroad"])  # the label never grows without bound
def test_a_cancel_reason_outside_the_contract_is_rejected(reason: object) -> None:
    with pytest.raises(InvalidDataError, match=r"data\.reason"):
        ticket_event(EventType.TICKET_CANCELLED, 3, reason=reason)


@pytest.mark.parametrize("known", [True, False], ids=["issued-seen", "issued-unseen"])
@pytest.mark.parametrize("minutes", [15 * 60 + 5, 23 * 60 + 30], ids=["00:05", "08:30"])
def test_a_day_closed_cancellation_after_midnight_counts_on_the_tickets_own_day(
    known: bool, minutes: int
) -> None:
    # Issued 28 Nov at 09:00 WITA; the day close cancels it on 29 Nov at 00:05 WITA
    # (16:05 UTC on the 28th) or, after an outage, at 08:30 WITA (00:30 UTC on the 29th).
    after_midnight = ticket_event(
        EventType.TICKET_CANCELLED, minutes, status="cancelled", reason="day_closed", sequence=2
    )
    assert after_midnight.time.astimezone(WITA).date() == date(2026, 11, 29)
    effect = fold(after_midnight, _issued() if known else None, None)
    assert effect.ticket is not None
    assert (effect.ticket.status, effect.ticket.business_date) == ("cancelled", date(2026, 11, 28))
    yesterday = daily_report("bjb", date(2026, 11, 28), [effect.ticket]).rows[0]
    assert (yesterday.issued, yesterday.cancelled) == (1, 1)
    assert daily_report("bjb", date(2026, 11, 29), [effect.ticket]).rows[0].cancelled == 0


def test_counter_idle_time_accumulates_only_while_open_and_free() -> None:
    opened = fold(counter_event(EventType.COUNTER_OPENED, 0), None, None).counter
    assert opened is not None
    assert opened.idle_since == at(0)
    paused = fold(counter_event(EventType.COUNTER_PAUSED, 20), None, opened).counter
    assert paused is not None
    assert (paused.status, paused.idle_seconds, paused.idle_since) == ("paused", 1200.0, None)
    reopened = fold(counter_event(EventType.COUNTER_OPENED, 50), None, paused).counter
    closed = fold(counter_event(EventType.COUNTER_CLOSED, 55), None, reopened).counter
    assert closed is not None
    assert closed.idle_seconds == 1500.0


def test_the_business_date_is_the_events_own() -> None:
    # 16:30 UTC on 27 Nov is 00:30 WITA on 28 Nov: the event says so, metrics does not compute it.
    event = ticket_event(EventType.TICKET_ISSUED, -510, issued_at=at(-510).isoformat())
    effect = fold(event, None, None)
    assert effect.ticket is not None
    assert effect.ticket.business_date == date(2026, 11, 28)
    with pytest.raises(InvalidDataError, match=r"data\.business_date"):
        ticket_event(EventType.TICKET_ISSUED, -510, business_date=None)


def test_survey_is_dated_in_the_branch_zone() -> None:
    effect = fold(survey_event(-510, [4] * 9), None, None)
    assert effect.survey is not None
    assert effect.survey.local_date == date(2026, 11, 28)
    assert effect.survey.scores == (4,) * 9


@pytest.mark.parametrize("scores", [[4] * 8, [5] * 9, None])
def test_bad_survey_scores_are_invalid_data(scores: object) -> None:
    with pytest.raises(InvalidDataError, match=r"data\.scores"):
        survey_event(1, scores)


def test_mistyped_data_is_invalid() -> None:
    with pytest.raises(InvalidDataError):
        ticket_event(EventType.TICKET_CALLED, 3, called_at="yesterday")
    with pytest.raises(InvalidDataError):
        ticket_event(EventType.TICKET_ISSUED, 0, estimated_wait_seconds="soon")


def test_clock_skew_never_gives_negative_durations() -> None:
    effect = fold(ticket_event(EventType.TICKET_CALLED, -1, counter="loket-1"), _issued(), None)
    assert Observation("qms_wait_seconds", QUEUE, 0.0) in effect.observations


@pytest.mark.parametrize(
    "extra",
    [
        {"estimated_wait_seconds": 2**40},
        {"estimated_wait_seconds": -5},
        {"target_wait_seconds": float("inf")},
        {"agency_id": "disduk\x00capil"},
        {"channel": 7},
        {"business_date": 20261128},
    ],
)
def test_data_postgresql_could_not_store_is_invalid(extra: dict[str, object]) -> None:
    with pytest.raises(InvalidDataError):
        ticket_event(EventType.TICKET_ISSUED, 0, **extra)
