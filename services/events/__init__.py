"""The event contract every Antrian service shares.

Only this package crosses service boundaries: a CloudEvents 1.0 envelope in
structured JSON mode, the event types of the hall, and the Kafka topics.
It is pure code with no I/O.
"""

from services.events.envelope import (
    DATA_CONTENT_TYPE,
    SPEC_VERSION,
    CloudEvent,
    EventError,
    EventType,
    UnknownEventTypeError,
    decode,
    encode,
    new_event,
)
from services.events.topics import DLQ_CONSUMER_HEADER, DLQ_REASON_HEADER, DLQ_TOPIC, EVENTS_TOPIC

__all__ = [
    "DATA_CONTENT_TYPE",
    "DLQ_CONSUMER_HEADER",
    "DLQ_REASON_HEADER",
    "DLQ_TOPIC",
    "EVENTS_TOPIC",
    "SPEC_VERSION",
    "CloudEvent",
    "EventError",
    "EventType",
    "UnknownEventTypeError",
    "decode",
    "encode",
    "new_event",
]
