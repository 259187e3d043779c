"""The event contract every Antrian service shares.

Only this package crosses service boundaries: a CloudEvents 1.0 envelope in
structured JSON mode (``envelope``), one typed model per event type's
``data`` (``data``), the constrained value types they are made of
(``types``) and the Kafka topics (``topics``). It is pure code with no I/O;
``python -m services.events.docs`` writes ``docs/events.md`` and the JSON
Schemas under ``docs/events/`` from the models.
"""

from services.events.data import (
    DATA_MODELS,
    AtCounter,
    CounterClosed,
    CounterData,
    CounterOpened,
    CounterPaused,
    EventData,
    EventType,
    HallAnnouncement,
    HallConfigured,
    SurveySubmitted,
    TicketCalled,
    TicketCancelled,
    TicketCompleted,
    TicketData,
    TicketIssued,
    TicketNoShow,
    TicketParked,
    TicketReactivated,
    TicketRecalled,
    TicketReturned,
    TicketServing,
    TicketTransferred,
)
from services.events.envelope import (
    DATA_CONTENT_TYPE,
    SPEC_VERSION,
    CloudEvent,
    EventError,
    InvalidDataError,
    MalformedEventError,
    UnknownEventTypeError,
    decode,
    encode,
    new_event,
    parse_data,
)
from services.events.topics import DLQ_CONSUMER_HEADER, DLQ_REASON_HEADER, DLQ_TOPIC, EVENTS_TOPIC

__all__ = [
    "DATA_CONTENT_TYPE",
    "DATA_MODELS",
    "DLQ_CONSUMER_HEADER",
    "DLQ_REASON_HEADER",
    "DLQ_TOPIC",
    "EVENTS_TOPIC",
    "SPEC_VERSION",
    "AtCounter",
    "CloudEvent",
    "CounterClosed",
    "CounterData",
    "CounterOpened",
    "CounterPaused",
    "EventData",
    "EventError",
    "EventType",
    "HallAnnouncement",
    "HallConfigured",
    "InvalidDataError",
    "MalformedEventError",
    "SurveySubmitted",
    "TicketCalled",
    "TicketCancelled",
    "TicketCompleted",
    "TicketData",
    "TicketIssued",
    "TicketNoShow",
    "TicketParked",
    "TicketReactivated",
    "TicketRecalled",
    "TicketReturned",
    "TicketServing",
    "TicketTransferred",
    "UnknownEventTypeError",
    "decode",
    "encode",
    "new_event",
    "parse_data",
]
