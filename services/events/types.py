"""The constrained value types of the event contract: every limit is stated here, once.

Pure code (pydantic types, no I/O). Ticketing validates requests with the same
types (the IKM scores, the ids), display and metrics parse events with them.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

ID_BODY = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
"""An Antrian id (branch, agency, service, counter, ticket): a short slug; a UUID matches too."""
ID_PATTERN = rf"^{ID_BODY}$"
MAX_ID = 128
MAX_NUMBER = 16
"""Longest ticket number as shown ("A012": a prefix and a few digits)."""
MAX_NAME = 100
"""Longest counter, service or agency name."""
MAX_ZONE = 64
"""Longest hall zone (the display websocket's ``?zone=`` takes 1-64 characters)."""
MAX_USERNAME = 64
MAX_COUNT = 2**31 - 1
"""Largest count or duration: the consumers store them in PostgreSQL integers."""

IKM_ELEMENTS = 9
"""The nine IKM elements (unsur) of PermenPAN-RB 14/2017, each scored once per answer."""
MIN_SCORE = 1
MAX_SCORE = 4

_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"


def _no_control(limit: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=limit, pattern=_NO_CONTROL)


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""Any Antrian id."""
Number = Annotated[str, _no_control(MAX_NUMBER)]
Name = Annotated[str, _no_control(MAX_NAME)]
Zone = Annotated[str, _no_control(MAX_ZONE)]
Username = Annotated[str, _no_control(MAX_USERNAME)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)]
"""A non-negative integer that fits a PostgreSQL integer (seconds, positions, recalls)."""
Score = Annotated[int, Field(ge=MIN_SCORE, le=MAX_SCORE, strict=True)]
"""One IKM element score."""
Scores = Annotated[tuple[Score, ...], Field(min_length=IKM_ELEMENTS, max_length=IKM_ELEMENTS)]
"""One IKM answer: the nine element scores in the regulation's order, each 1-4."""


def _zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"not an IANA time zone: {name!r}") from exc
    return name


Timezone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_zone)]
"""An IANA time zone name, e.g. ``Asia/Makassar`` (WITA)."""


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


Moment = Annotated[
    AwareDatetime,
    AfterValidator(lambda moment: moment.astimezone(UTC)),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]
"""An aware instant (RFC 3339 with an offset on the wire), held in UTC."""


_SCORES: TypeAdapter[tuple[int, ...]] = TypeAdapter(Scores)


def validate_scores(scores: object) -> tuple[int, ...]:
    """The nine IKM scores as a tuple; a ``ValueError`` names the first bad one."""
    rule = f"scores must be a list of {IKM_ELEMENTS} integers from {MIN_SCORE} to {MAX_SCORE}"
    if not isinstance(scores, list | tuple):
        raise ValueError(rule)
    try:
        return _SCORES.validate_python(scores)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = f" (score {int(error['loc'][0]) + 1}: {error['msg']})" if error["loc"] else ""
        raise ValueError(rule + where) from exc
