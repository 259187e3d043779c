"""CloudEvents 1.0 envelope (structured JSON mode) for Antrian events.

``encode`` and ``decode`` are exact inverses for valid events. ``decode``
rejects anything that is not a well-formed Antrian event with an
:class:`EventError` of a type that says what was wrong, so a consumer
dead-letters by the exception's type, never by its text:

``EventError`` (the envelope is invalid)
  ├── ``MalformedEventError``    not JSON, or not a JSON object
  ├── ``UnknownEventTypeError``  a type this version does not know (a newer producer)
  └── ``InvalidDataError``       ``data`` does not satisfy its type's model
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)

from services.events.data import DATA_MODELS, EventData, EventType
from services.events.types import MAX_ID, Id, Moment

SPEC_VERSION: Literal["1.0"] = "1.0"
DATA_CONTENT_TYPE: Literal["application/json"] = "application/json"
SOURCE_PATTERN = r"^/[\x21-\x7e]{0,255}$"
_REQUIRED = ("specversion", "id", "source", "type", "time", "subject", "branchid", "sequence")


class EventError(ValueError):
    """An event that is not a valid Antrian CloudEvent (root of the tree in the module docstring)."""


class MalformedEventError(EventError):
    """The record is not a JSON object at all."""


class UnknownEventTypeError(EventError):
    """The ``type`` attribute names no Antrian event type."""


class InvalidDataError(EventError):
    """A well-formed envelope whose ``data`` its type's model refuses.

    ``branchid``, ``sequence`` and ``event_id`` are the envelope's, when it
    had them: a consumer can still count the sequence as used.
    """

    def __init__(
        self,
        message: str,
        *,
        branchid: str | None = None,
        sequence: int | None = None,
        event_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.branchid, self.sequence, self.event_id = branchid, sequence, event_id


def _uuid(text: str) -> str:
    uuid.UUID(text)
    return text


class CloudEvent(BaseModel):
    """One Antrian event. ``sequence`` is 0 until the outbox relay assigns it."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = SPEC_VERSION
    id: Annotated[str, AfterValidator(_uuid)] = Field(default_factory=lambda: str(uuid.uuid4()))
    source: Annotated[str, StringConstraints(pattern=SOURCE_PATTERN)] = Field(examples=["/ticketing"])
    type: EventType
    time: Moment = Field(description="when the change happened (RFC 3339, UTC)")
    subject: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID)] = Field(
        description="the ticket or counter id"
    )
    datacontenttype: Literal["application/json"] = DATA_CONTENT_TYPE
    branchid: Id = Field(description="the branch; also the Kafka key")
    sequence: int = Field(default=0, ge=0, strict=True, description="per branch, strictly increasing")
    data: SerializeAsAny[EventData]

    @model_validator(mode="after")
    def _data_fits(self) -> CloudEvent:
        expected = DATA_MODELS[self.type]
        if type(self.data) is not expected:
            raise ValueError(f"{self.type.value} data must be a {expected.__name__}")
        if self.data.branch_id != self.branchid:
            raise ValueError("data.branch_id must equal branchid")
        return self

    def with_sequence(self, sequence: int) -> CloudEvent:
        """Return this event carrying the branch ``sequence`` the relay gave it."""
        return CloudEvent.model_validate({**dict(self), "sequence": sequence})

    def to_dict(self) -> dict[str, Any]:
        """The structured-mode JSON object of this event."""
        return self.model_dump(mode="json")


def new_event(data: EventData, *, source: str, subject: str, time: Any, id: str | None = None) -> CloudEvent:
    """Build a validated event (without a sequence yet); the type follows from ``data``'s model."""
    fields: dict[str, Any] = {
        "type": data.event_type,
        "source": source,
        "subject": subject,
        "branchid": data.branch_id,
        "time": time,
        "data": data,
    }
    if id is not None:
        fields["id"] = id
    try:
        return CloudEvent.model_validate(fields)
    except ValidationError as exc:
        raise EventError(describe(exc)) from exc


def encode(event: CloudEvent) -> bytes:
    """Serialise a sequenced event to UTF-8 JSON bytes."""
    if event.sequence < 1:
        raise EventError(f"sequence must be a positive integer, got {event.sequence}")
    return event.model_dump_json().encode()


def decode(raw: bytes | str | Mapping[str, Any]) -> CloudEvent:
    """Parse and validate one event; raise an :class:`EventError` when it is not one.

    JSON text is validated in one pass by pydantic's own parser (about half the cost of
    ``json.loads`` and then the models); only what that refuses goes the slow way below,
    which finds out what exactly is wrong.
    """
    if not isinstance(raw, Mapping):
        try:
            event = _envelopes().validate_json(raw)
        except ValidationError:
            pass  # not a valid event: the checks below name what is wrong
        else:
            object.__setattr__(event, "__class__", CloudEvent)  # same fields: the subclass only chose `data`
            return event
    obj = _load(raw)
    missing = [name for name in _REQUIRED if name not in obj]
    if missing:
        raise EventError(f"missing attribute(s): {', '.join(missing)}")
    event_type = event_type_of(obj["type"])
    try:
        data = parse_data(event_type, obj.get("data", {}))
    except InvalidDataError as exc:
        branchid, sequence, event_id = obj.get("branchid"), obj.get("sequence"), obj.get("id")
        raise InvalidDataError(
            str(exc),
            branchid=branchid if isinstance(branchid, str) else None,
            sequence=sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None,
            event_id=event_id if isinstance(event_id, str) else None,
        ) from exc
    try:
        event = CloudEvent.model_validate({**obj, "type": event_type, "data": data})
    except ValidationError as exc:
        raise EventError(describe(exc)) from exc
    if event.sequence < 1:
        raise EventError(f"sequence must be a positive integer, got {event.sequence}")
    return event


@functools.cache
def _envelopes() -> TypeAdapter[CloudEvent]:
    """Every event type's envelope, told apart by ``type``: what a valid event is, in one schema.

    Each is a CloudEvent with its ``type`` fixed, its ``data`` of that type's model, the
    attributes :func:`decode` requires required, and a positive ``sequence``.
    """
    required: dict[str, Any] = {
        "specversion": (Literal["1.0"], ...),
        "id": (Annotated[str, AfterValidator(_uuid)], ...),
        "sequence": (int, Field(ge=1, strict=True)),
    }
    typed: tuple[Any, ...] = tuple(
        create_model(
            f"{model.__name__}Event",
            __base__=CloudEvent,
            **required,
            type=(cast(Any, Literal)[event_type], ...),
            data=(model, ...),
        )
        for event_type, model in DATA_MODELS.items()
    )
    union: Any = Annotated[cast(Any, Union)[typed], Field(discriminator="type")]
    return cast(TypeAdapter[CloudEvent], TypeAdapter(union))


def parse_data(event_type: EventType, data: object) -> EventData:
    """``data`` as the model of ``event_type``; :class:`InvalidDataError` names each bad field."""
    try:
        return DATA_MODELS[event_type].model_validate(data)
    except ValidationError as exc:
        raise InvalidDataError(describe(exc, prefix="data")) from exc


def event_type_of(value: object) -> EventType:
    """The :class:`EventType` named by ``value``, or :class:`UnknownEventTypeError`."""
    if not isinstance(value, str):
        raise UnknownEventTypeError(f"unknown event type: {value!r}")
    try:
        return EventType(value)
    except ValueError as exc:
        raise UnknownEventTypeError(f"unknown event type: {value!r}") from exc


def describe(exc: ValidationError, prefix: str = "") -> str:
    """One line naming each offending field by its path, e.g. ``data.scores.3: ...``."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in (prefix, *error["loc"]) if p != "")
        parts.append(f"{path or 'event'}: {error['msg']}")
    return "; ".join(parts)


def _load(raw: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEventError(f"not JSON: {exc}") from exc
    except RecursionError as exc:  # absurdly nested JSON must not stop a consumer
        raise MalformedEventError("JSON nested too deeply") from exc
    if not isinstance(obj, dict):
        raise MalformedEventError("an event must be a JSON object")
    return obj
