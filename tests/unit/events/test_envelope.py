"""The CloudEvents envelope: round trips and clear rejections."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.events import (
    CloudEvent,
    EventError,
    EventType,
    UnknownEventTypeError,
    decode,
    encode,
    new_event,
)

WITA = timezone(timedelta(hours=8))


def _ticket_data(branch: str = "bjb") -> dict[str, object]:
    return {
        "ticket_id": "t-1",
        "number": "A012",
        "branch_id": branch,
        "service_id": "ktp",
        "agency_id": "disdukcapil",
        "counter_id": None,
        "priority": False,
        "channel": "kiosk",
        "issued_at": "2026-11-28T01:00:00Z",
    }


def _event(**overrides: object) -> CloudEvent:
    event = new_event(
        EventType.TICKET_ISSUED,
        source="/ticketing",
        subject="t-1",
        branch_id="bjb",
        data=_ticket_data(),
        time=datetime(2026, 11, 28, 9, 0, tzinfo=WITA),
    )
    return event.with_sequence(7)


def test_round_trip_keeps_every_attribute() -> None:
    event = _event()
    back = decode(encode(event))
    assert back == event
    assert back.time == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def test_encoded_form_is_structured_cloudevents() -> None:
    obj = json.loads(encode(_event()))
    assert obj["specversion"] == "1.0"
    assert obj["datacontenttype"] == "application/json"
    assert obj["time"] == "2026-11-28T01:00:00.000000Z"
    assert obj["type"] == "ticket.issued"
    assert obj["branchid"] == "bjb"
    assert obj["sequence"] == 7
    assert obj["data"]["number"] == "A012"


def test_every_design_event_type_exists() -> None:
    expected = {
        "ticket.issued", "ticket.called", "ticket.recalled", "ticket.serving", "ticket.completed",
        "ticket.no_show", "ticket.transferred", "ticket.cancelled", "counter.opened",
        "counter.paused", "counter.closed", "survey.submitted",
    }  # fmt: skip
    assert {t.value for t in EventType} == expected


def test_unsequenced_event_cannot_be_encoded() -> None:
    event = _event().with_sequence(0)
    with pytest.raises(EventError, match="sequence"):
        encode(event)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o.pop("id"), "missing attribute"),
        (lambda o: o.update(specversion="0.3"), "specversion"),
        (lambda o: o.update(type="ticket.teleported"), "unknown event type"),
        (lambda o: o.update(time="yesterday"), "RFC 3339"),
        (lambda o: o.update(time="2026-11-28T01:00:00"), "no offset"),
        (lambda o: o.update(sequence="7"), "sequence must be an integer"),
        (lambda o: o.update(sequence=True), "sequence must be an integer"),
        (lambda o: o.update(sequence=0), "positive"),
        (lambda o: o.update(id="not-a-uuid"), "UUID"),
        (lambda o: o.update(source="ticketing"), "source"),
        (lambda o: o.update(branchid=""), "branchid"),
        (lambda o: o.update(branchid="a b"), "branchid"),
        (lambda o: o.update(data=[1, 2]), "data must be a JSON object"),
        (lambda o: o["data"].pop("number"), "lacks: number"),
        (lambda o: o["data"].update(branch_id="other"), "branch_id must equal"),
        (lambda o: o.update(datacontenttype="text/plain"), "datacontenttype"),
    ],
)
def test_malformed_events_are_rejected_with_a_clear_reason(mutate: object, message: str) -> None:
    obj = json.loads(encode(_event()))
    mutate(obj)  # type: ignore[operator]
    with pytest.raises(EventError, match=message):
        decode(json.dumps(obj).encode())


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"[1]", b"null", b"{", "42"])
def test_non_objects_are_rejected(raw: bytes | str) -> None:
    with pytest.raises(EventError):
        decode(raw)


def test_naive_time_is_refused_when_building() -> None:
    with pytest.raises(EventError, match="aware"):
        new_event(
            EventType.COUNTER_OPENED,
            source="/ticketing",
            subject="loket-1",
            branch_id="bjb",
            data={"counter_id": "loket-1"},
            time=datetime(2026, 11, 28, 9, 0),
        )


def test_counter_events_need_no_ticket_fields() -> None:
    event = new_event(
        EventType.COUNTER_PAUSED,
        source="/ticketing",
        subject="loket-1",
        branch_id="bjb",
        data={"counter_id": "loket-1"},
        time=datetime.now(UTC),
    ).with_sequence(1)
    assert decode(encode(event)).type is EventType.COUNTER_PAUSED


def test_an_unknown_type_is_its_own_error() -> None:
    obj = json.loads(encode(_event()))
    obj["type"] = "ticket.teleported"
    with pytest.raises(UnknownEventTypeError):
        decode(json.dumps(obj))
