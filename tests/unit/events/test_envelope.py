"""The CloudEvents envelope: round trips, and rejections whose exception type says why."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.events import (
    CloudEvent,
    EventError,
    EventType,
    InvalidDataError,
    MalformedEventError,
    UnknownEventTypeError,
    decode,
    encode,
    new_event,
)
from tests.unit.events.kit import issued, paused

WITA = timezone(timedelta(hours=8))


def _event() -> CloudEvent:
    event = new_event(
        issued(), source="/ticketing", subject="t-1", time=datetime(2026, 11, 28, 9, 0, tzinfo=WITA)
    )
    return event.with_sequence(7)


def test_round_trip_keeps_every_attribute() -> None:
    event = _event()
    back = decode(encode(event))
    assert back == event
    assert back.time == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert back.data == issued()


def test_encoded_form_is_structured_cloudevents() -> None:
    obj = json.loads(encode(_event()))
    assert obj["specversion"] == "1.0"
    assert obj["datacontenttype"] == "application/json"
    assert obj["time"] == "2026-11-28T01:00:00.000000Z"
    assert obj["type"] == "ticket.issued"
    assert obj["branchid"] == "bjb"
    assert obj["sequence"] == 7
    assert obj["data"]["number"] == "A012"
    assert (obj["data"]["timezone"], obj["data"]["business_date"]) == ("Asia/Makassar", "2026-11-28")
    assert obj["data"]["issued_at"] == "2026-11-28T01:00:00.000000Z"


def test_every_design_event_type_exists() -> None:
    expected = {
        "ticket.issued", "ticket.called", "ticket.recalled", "ticket.serving", "ticket.completed",
        "ticket.no_show", "ticket.transferred", "ticket.cancelled", "counter.opened",
        "counter.paused", "counter.closed", "survey.submitted",
    }  # fmt: skip
    assert expected <= {t.value for t in EventType}  # the second wave adds its own


def test_unsequenced_event_cannot_be_encoded() -> None:
    event = _event().with_sequence(0)
    with pytest.raises(EventError, match="sequence"):
        encode(event)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o.pop("id"), "missing attribute"),
        (lambda o: o.update(specversion="0.3"), "specversion"),
        (lambda o: o.update(time="yesterday"), "time"),
        (lambda o: o.update(time="2026-11-28T01:00:00"), "time: .*timezone"),
        (lambda o: o.update(sequence="7"), "sequence"),
        (lambda o: o.update(sequence=True), "sequence"),
        (lambda o: o.update(sequence=0), "positive"),
        (lambda o: o.update(id="not-a-uuid"), "id"),
        (lambda o: o.update(source="ticketing"), "source"),
        (lambda o: o.update(branchid=""), "branchid"),
        (lambda o: o.update(branchid="a b"), "branchid"),
        (lambda o: o["data"].update(branch_id="other", timezone="Asia/Makassar"), "branch_id must equal"),
        (lambda o: o.update(datacontenttype="text/plain"), "datacontenttype"),
    ],
)
def test_an_invalid_envelope_is_an_event_error_naming_the_attribute(mutate: object, message: str) -> None:
    obj = json.loads(encode(_event()))
    mutate(obj)  # type: ignore[operator]
    with pytest.raises(EventError, match=message) as caught:
        decode(json.dumps(obj).encode())
    assert type(caught.value) is EventError


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("number"), "data.number"),
        (lambda d: d.pop("timezone"), "data.timezone"),
        (lambda d: d.update(timezone="Mars/Olympus"), "data.timezone"),
        (lambda d: d.update(business_date="28/11/2026"), "data.business_date"),
        (lambda d: d.update(number="A\x1b[2J"), "data.number"),
        (lambda d: d.update(service_name="x" * 101), "data.service_name"),
        (lambda d: d.update(position=-1), "data.position"),
        (lambda d: d.update(estimated_wait_seconds=2**31), "data.estimated_wait_seconds"),
        (lambda d: d.update(channel="fax"), "data.channel"),
        (lambda d: d.update(ticket_id="a b"), "data.ticket_id"),
    ],
)
def test_invalid_data_is_its_own_error_naming_the_field(mutate: object, field: str) -> None:
    obj = json.loads(encode(_event()))
    mutate(obj["data"])  # type: ignore[operator]
    with pytest.raises(InvalidDataError, match=field.replace(".", r"\.")):
        decode(json.dumps(obj))


def test_data_that_is_not_an_object_is_invalid_data() -> None:
    obj = json.loads(encode(_event()))
    obj["data"] = [1, 2]
    with pytest.raises(InvalidDataError):
        decode(obj)


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"[1]", b"null", b"{", "42", b"[" * 100_000])
def test_non_objects_are_malformed(raw: bytes | str) -> None:
    with pytest.raises(MalformedEventError):
        decode(raw)


def test_naive_time_is_refused_when_building() -> None:
    with pytest.raises(EventError, match="time"):
        new_event(paused(), source="/ticketing", subject="loket-1", time=datetime(2026, 11, 28, 9, 0))


def test_the_type_follows_from_the_data_model() -> None:
    event = new_event(paused(), source="/ticketing", subject="loket-1", time=datetime.now(UTC))
    assert decode(encode(event.with_sequence(1))).type is EventType.COUNTER_PAUSED


def test_data_of_another_type_is_refused() -> None:
    obj = json.loads(encode(_event()))
    obj["type"] = "ticket.cancelled"  # issued data lacks nothing cancelled needs except its status
    obj["data"]["status"] = "cancelled"
    assert decode(obj).type is EventType.TICKET_CANCELLED
    with pytest.raises(ValueError, match="must be a TicketCancelled"):
        CloudEvent.model_validate({**obj, "type": "ticket.cancelled", "data": issued()})


def test_an_unknown_type_is_its_own_error() -> None:
    obj = json.loads(encode(_event()))
    obj["type"] = "ticket.teleported"
    with pytest.raises(UnknownEventTypeError):
        decode(json.dumps(obj))


def test_unknown_data_fields_are_ignored_so_producers_can_add_fields() -> None:
    obj = json.loads(encode(_event()))
    obj["data"]["kiosk_id"] = "k-7"
    assert decode(obj).data == issued()
