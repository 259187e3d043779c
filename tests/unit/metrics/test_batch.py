"""Folding a batch: duplicates skipped, facts carried from event to event, deltas summed."""

import uuid
from zoneinfo import ZoneInfo

from services.events import EventType
from services.metrics.aggregates import WAIT_BUCKETS, labels
from services.metrics.batch import bucket_index, event_key, fold_batch, touched
from tests.unit.metrics.events import counter_event, survey_event, ticket_event

WITA = ZoneInfo("Asia/Makassar")


def test_a_batch_carries_facts_and_sums_deltas() -> None:
    events = [
        counter_event(EventType.COUNTER_OPENED, 0),
        ticket_event(EventType.TICKET_ISSUED, 0, ticket="a"),
        ticket_event(EventType.TICKET_ISSUED, 0, ticket="b"),
        ticket_event(EventType.TICKET_CALLED, 1, ticket="a", counter="loket-1"),  # waited 60 s
        ticket_event(EventType.TICKET_COMPLETED, 5, ticket="a", counter="loket-1"),
        ticket_event(EventType.TICKET_CALLED, 45, ticket="b", counter="loket-1"),  # waited 2700 s
    ]
    result = fold_batch(events, {event_key(e) for e in events}, {}, {})
    assert all(o.applied for o in result.outcomes)
    queue = labels(branch="bjb", agency="disdukcapil", service="ktp")
    issued = labels(branch="bjb", agency="disdukcapil", service="ktp", channel="kiosk")
    assert result.totals[("qms_tickets_issued_total", issued)] == 2
    wait = result.histograms[("qms_wait_seconds", queue)]
    assert (wait.count, wait.sum) == (2, 2760.0)
    assert wait.buckets[bucket_index(WAIT_BUCKETS, 60.0)] == 1
    assert wait.buckets[WAIT_BUCKETS.index(2700.0)] == 1
    assert result.tickets["a"].status == "completed"
    assert result.tickets["b"].status == "called"
    counter = result.counters[("bjb", "loket-1")]
    # Idle 0-1 min, busy 1-5, idle 5-45 min: 41 minutes idle, busy with b now.
    assert counter.idle_seconds == 41 * 60
    assert counter.active_ticket_id == "b"
    assert result.queue_keys == {("bjb", "disdukcapil", "ktp")}


def test_processed_and_repeated_events_are_duplicates() -> None:
    old = ticket_event(EventType.TICKET_ISSUED, 0, ticket="a")
    new = ticket_event(EventType.TICKET_ISSUED, 0, ticket="b")
    result = fold_batch([old, new, new], {event_key(new)}, {}, {})
    assert [(o.applied, o.duplicate) for o in result.outcomes] == [
        (False, True),
        (True, False),
        (False, True),
    ]
    issued = labels(branch="bjb", agency="disdukcapil", service="ktp", channel="kiosk")
    assert result.totals[("qms_tickets_issued_total", issued)] == 1


def test_invalid_events_are_reported_and_skipped() -> None:
    bad = survey_event(3, [4] * 9, sequence=2**63)  # the model took it; PostgreSQL could not store it
    good = survey_event(4, [4] * 9, ticket="t-2")
    twice = survey_event(5, [1] * 9, ticket="t-2")
    result = fold_batch([bad, good, twice], {event_key(e) for e in (bad, good, twice)}, {}, {})
    assert result.outcomes[0].invalid is not None
    assert result.outcomes[1].applied
    assert result.surveys["t-2"].scores == (4,) * 9  # the first answer for a ticket counts


def test_touched_lists_what_to_load() -> None:
    events = [
        ticket_event(EventType.TICKET_CALLED, 1, ticket="a", counter="loket-2"),
        counter_event(EventType.COUNTER_PAUSED, 2, counter="loket-3"),
    ]
    assert touched(events) == ({"a"}, {("bjb", "loket-2"), ("bjb", "loket-3")})


def test_bucket_index_edges() -> None:
    assert bucket_index(WAIT_BUCKETS, 0.0) == 0
    assert bucket_index(WAIT_BUCKETS, 30.0) == 0
    assert bucket_index(WAIT_BUCKETS, 30.5) == 1
    assert bucket_index(WAIT_BUCKETS, 7200.0) == len(WAIT_BUCKETS) - 1
    assert bucket_index(WAIT_BUCKETS, 7201.0) == len(WAIT_BUCKETS)


def test_a_sequence_beyond_bigint_is_invalid() -> None:
    event = ticket_event(EventType.TICKET_ISSUED, 0, sequence=2**63)
    result = fold_batch([event], {event_key(event)}, {}, {})
    assert result.outcomes[0].invalid is not None
    assert not result.totals


def test_event_key_is_the_uuid_as_postgresql_prints_it() -> None:
    canonical = "0f8fad5b-d9cb-469f-a165-70867728950e"
    spellings = [
        canonical,
        canonical.upper(),
        "{" + canonical + "}",
        "urn:uuid:" + canonical,
        canonical.replace("-", ""),
        "0f8fad5bd-9cb-469f-a165-70867728950e",  # 36 characters, a dash out of place
    ]
    event = ticket_event(EventType.TICKET_ISSUED, 0)
    for spelling in spellings:
        assert event_key(event.model_copy(update={"id": spelling})) == str(uuid.UUID(spelling)) == canonical
