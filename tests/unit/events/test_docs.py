"""The committed event docs and JSON Schemas are the ones the models generate, and they hold.

The schemas are checked with an independent validator (``jsonschema``): every
event the producers' models build validates, and data the models refuse does not.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from services.events import DATA_MODELS, EventType, encode, new_event
from services.events.docs import render
from tests.unit.events.kit import issued, paused

ROOT = Path(__file__).parents[3]


@pytest.mark.parametrize("path", sorted(render()), ids=str)
def test_committed_docs_are_fresh(path: Path) -> None:
    committed = ROOT / path
    assert committed.exists(), f"{path} is missing: run `make docs`"
    assert committed.read_text(encoding="utf-8") == render()[path], f"{path} is stale: run `make docs`"


def test_no_stale_schema_of_a_removed_type() -> None:
    committed = {p.name for p in (ROOT / "docs" / "events").glob("*.json")}
    assert committed == {f"{t.value}.json" for t in DATA_MODELS}


def _validator(event_type: EventType) -> Draft202012Validator:
    schema = json.loads((ROOT / "docs" / "events" / f"{event_type.value}.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_every_type_has_a_model_and_a_schema() -> None:
    assert set(DATA_MODELS) == set(EventType)
    for event_type in EventType:
        assert _validator(event_type).schema["title"] == event_type.value


@pytest.mark.parametrize("data", [issued(), paused()], ids=["ticket.issued", "counter.paused"])
def test_encoded_events_satisfy_their_schema(data: object) -> None:
    event = new_event(data, source="/ticketing", subject="x-1", time=datetime.now(UTC)).with_sequence(3)  # type: ignore[arg-type]
    obj = json.loads(encode(event))
    assert list(_validator(event.type).iter_errors(obj)) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("number", "A" * 17), ("position", -1), ("timezone", ""), ("channel", "fax"), ("business_date", 7)],
)
def test_the_schema_refuses_what_the_model_refuses(field: str, value: object) -> None:
    obj = json.loads(
        encode(new_event(issued(), source="/t", subject="t-1", time=datetime.now(UTC)).with_sequence(1))
    )
    obj["data"][field] = value
    assert list(_validator(EventType.TICKET_ISSUED).iter_errors(obj)) != []
