"""The bodies of ``/api/v1``: one pydantic model per request and response.

Requests are strict (a JSON ``"yes"`` is not ``true``, ``1`` is not ``"1"``);
unknown fields are ignored, as before. Responses are checked against their
model before they leave (an undocumented field is an error), so the OpenAPI
document generated from these models is what the service answers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.ticketing.domain.calling import PriorityGroup
from services.ticketing.domain.lifecycle import CounterStatus, TicketStatus

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
SURVEY_ELEMENTS = 9

Text = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"^[^\x00]*$")]
Channel = Literal["kiosk", "online"]
Score = Annotated[int, Field(ge=1, le=4)]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)


class _Response(BaseModel):
    # Every field the service sends is documented: an undocumented one fails the check.
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- requests -----------------------------------------------------------------------------


class LoginRequest(_Request):
    """An operator's or admin's credentials."""

    username: Text
    password: Annotated[Text, Field(json_schema_extra={"format": "password"})]


class IssueTicketRequest(_Request):
    """What the kiosk or the online form asks for."""

    service_id: Text
    channel: Channel = "kiosk"
    priority: bool = False
    priority_group: PriorityGroup | None = None


class SurveyRequest(_Request):
    """The nine IKM element scores, each 1 (poor) to 4 (very good)."""

    scores: Annotated[list[Score], Field(min_length=SURVEY_ELEMENTS, max_length=SURVEY_ELEMENTS)]


class CallNextRequest(_Request):
    """An admin may name the ticket to call (recorded as forced); operators send nothing."""

    ticket_id: uuid.UUID | None = None


class TransferRequest(_Request):
    """The service the active ticket moves to; it keeps its number and place."""

    service_id: Text


class PauseRequest(_Request):
    """Why the counter pauses (optional): the supervisor and the hall see it on ``counter.paused``."""

    reason: Literal["istirahat", "sholat", "rapat", "gangguan"] | None = None


class IdempotencyKey(_Request):
    """The ``Idempotency-Key`` header of issuing: 1-200 visible ASCII characters."""

    value: Annotated[str, StringConstraints(pattern=IDEMPOTENCY_KEY_PATTERN)] | None = None


# -- responses ----------------------------------------------------------------------------


class Token(_Response):
    """A bearer token and who it belongs to."""

    token: str
    token_type: Literal["Bearer"]
    expires_at: datetime
    username: str
    role: Literal["admin", "branch_admin", "supervisor", "operator"]
    counter_ids: list[str]
    branch_id: str | None = Field(description="the branch of a non-admin user (null for the admin)")


class Ticket(_Response):
    """A ticket as it stands now, with its live position and wait estimate."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    number: str = Field(examples=["A012"])
    status: TicketStatus
    branch_id: str
    business_date: date
    service_id: str
    service_name: str
    agency_id: str
    agency_name: str
    priority: bool
    priority_group: PriorityGroup | None
    channel: Channel
    issued_at: datetime
    called_at: datetime | None
    serving_at: datetime | None
    completed_at: datetime | None
    counter_id: str | None
    counter_name: str | None
    recall_count: int
    cancel_reason: Literal["citizen", "day_closed", "staff"] | None = Field(
        description="why a cancelled ticket was cancelled (null unless cancelled)"
    )
    position: int = Field(description="1 = next in line; 0 when not waiting")
    estimated_wait_seconds: int
    estimated_wait_at_issue_seconds: int | None


class SurveyReceipt(_Response):
    """The survey as recorded."""

    ticket_id: str = Field(json_schema_extra={"format": "uuid"})
    scores: list[int]
    submitted_at: datetime


class Counter(_Response):
    """A counter and its active ticket."""

    id: str
    branch_id: str
    name: str
    zone: str | None
    service_ids: list[str]
    status: CounterStatus
    active_ticket_id: str | None


class BranchSummary(_Response):
    """A branch: its id, name and time zone."""

    id: str
    name: str
    timezone: str = Field(examples=["Asia/Makassar"])


class BranchList(_Response):
    """Every branch."""

    items: list[BranchSummary]


class Agency(_Response):
    """An agency of a hall."""

    id: str
    name: str


class Service(_Response):
    """A service of a hall, with its own opening hours when it has them."""

    id: str
    agency_id: str
    name: str
    prefix: str
    daily_quota: int
    expected_service_seconds: int
    target_wait_seconds: int | None
    hours: dict[str, str | None] | None
    issuing_open: bool = Field(description="false when a supervisor stopped issuing for today")
    issuing_stop_reason: str | None = Field(description="the supervisor's reason, shown on the kiosk")


class Branch(BranchSummary):
    """A branch with its schedule, agencies, services and counters: what a kiosk or a screen needs."""

    hours: dict[str, str | None]
    breaks: list[dict[str, Any]]
    holidays: list[Any]
    issuing_cutoff_minutes: int
    agencies: list[Agency]
    services: list[Service]
    counters: list[Counter]


class ServiceForecast(_Response):
    """Will the tickets already issued be served before closing (measured service times, open counters)?"""

    finish_seconds: int | None = Field(
        description="until the waiting tickets are all served (null: none open)"
    )
    seconds_to_close: int | None = Field(description="until the service closes today (null: closed today)")
    all_served: bool
    new_ticket_served: bool = Field(description="a ticket taken now would probably be served today")
    unserved: int = Field(description="waiting tickets that will probably not be served")
    suggested_counter_id: str | None = Field(description="a counter that also serves it and could help")
    suggested_counter_name: str | None


class QueuedService(_Response):
    """The waiting count of one service today."""

    service_id: str
    agency_id: str
    service_name: str
    prefix: str
    waiting: int
    waiting_priority: int
    oldest_waiting_seconds: int
    forecast: ServiceForecast


class Queue(_Response):
    """Waiting counts per service for the branch's current business day."""

    branch_id: str
    business_date: date
    waiting: int
    services: list[QueuedService]
