"""``decode`` of JSON text (pydantic's one-pass parser) agrees with the checks on a parsed mapping.

The mapping path is the oracle: it checks each attribute in turn and names the
fault. For a valid event and for records broken in many ways, both paths must
accept the same events (equal) and refuse the same records (same error type and
text), so dead-lettering does not depend on which path a record took.
"""

import copy
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from services.events import CloudEvent, EventError, decode, encode, new_event
from tests.unit.events.kit import issued, paused

ODD_VALUES: list[Any] = [None, 0, 1, -1, 1.0, 1.5, "1", "", "x", True, [], {}, "2026-11-29",
                         "2026-11-29T01:00:00Z", "2026-11-29T01:00:00", "Asia/Nowhere", "A" * 200,
                         "a\nb", 2**40, "00000000-0000-0000-0000-000000000000"]  # fmt: skip


def _events() -> list[CloudEvent]:
    when = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    return [
        new_event(issued(), source="/ticketing", subject="t-1", time=when).with_sequence(3),
        new_event(paused(counter_id="c1"), source="/ticketing", subject="c1", time=when).with_sequence(4),
    ]


def _outcome(raw: bytes | dict[str, Any]) -> CloudEvent | tuple[type[EventError], str]:
    try:
        return decode(raw)
    except EventError as exc:
        return type(exc), str(exc)


def _broken(obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    broken = copy.deepcopy(obj)
    target = broken if rng.random() < 0.4 else broken["data"]
    key = rng.choice(sorted(target))
    roll = rng.random()
    if roll < 0.3:
        del target[key]
    elif roll < 0.9:
        target[key] = rng.choice(ODD_VALUES)
    else:
        target["unknown_" + key] = 1
    return broken


@pytest.mark.parametrize("event", _events(), ids=lambda e: e.type.value)
def test_valid_text_decodes_to_the_same_event(event: CloudEvent) -> None:
    raw = encode(event)
    fast = decode(raw)
    assert type(fast) is CloudEvent
    assert fast == decode(json.loads(raw)) == event


@pytest.mark.parametrize("event", _events(), ids=lambda e: e.type.value)
def test_broken_records_are_refused_alike(event: CloudEvent) -> None:
    rng = random.Random(17)
    refused = 0
    for _ in range(400):
        obj = _broken(json.loads(encode(event)), rng)
        text = _outcome(json.dumps(obj).encode())
        assert text == _outcome(obj), obj
        refused += not isinstance(text, CloudEvent)
    assert refused > 100  # the mutations did break records
