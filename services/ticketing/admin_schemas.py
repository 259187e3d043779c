"""The bodies of the second wave's staff routes: accounts, master data, supervision, audit.

Same rules as :mod:`services.ticketing.schemas`: requests strict (unknown
fields ignored), responses checked against their model before they leave.
Master-data values are checked again by the hall loader's validators
(:mod:`services.ticketing.domain.hall`), so the console and the YAML file
accept exactly the same halls.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.ticketing.schemas import ID_PATTERN, Queue, Text, Ticket

__all__ = ["Ticket"]  # the supervisor's ticket actions answer with it

RoleName = Literal["admin", "branch_admin", "supervisor", "operator"]
Slug = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=200, pattern=r"^[^\x00]*$"),
    Field(json_schema_extra={"format": "password"}),
]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")
]
Prefix = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,3}$")]
Reason = Annotated[
    str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")
]
Hours = dict[str, Annotated[str, StringConstraints(max_length=40)] | None]
Json = dict[str, Any]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BranchQuery(_Request):
    """The ``branch_id`` query parameter."""

    value: Slug | None = None


# -- accounts -----------------------------------------------------------------------------


class PasswordChange(_Request):
    """The current password and the new one (8-200 characters)."""

    current_password: Annotated[Text, Field(json_schema_extra={"format": "password"})]
    new_password: Password


class UserCreate(_Request):
    """A new staff account."""

    username: Username
    password: Password
    role: RoleName
    branch_id: Slug | None = None
    counter_ids: Annotated[list[Slug], Field(max_length=100)] = []


class UserPatch(_Request):
    """Changes to an account; any field left out stays. A change of role, branch, counters,
    password or ``disabled`` ends the user's sessions at once."""

    role: RoleName | None = None
    branch_id: Slug | None = None
    counter_ids: Annotated[list[Slug], Field(max_length=100)] | None = None
    disabled: bool | None = None
    password: Password | None = None


class Account(_Response):
    """A staff account (never its password)."""

    username: str
    role: RoleName
    branch_id: str | None
    counter_ids: list[str]
    disabled: bool
    created_at: datetime


class AccountList(_Response):
    """Staff accounts."""

    items: list[Account]


class SessionInfo(_Response):
    """One open session of the caller (``current``: the one making this request)."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None
    client: str | None
    current: bool


class SessionList(_Response):
    """The caller's open sessions, newest first."""

    items: list[SessionInfo]


# -- master data ----------------------------------------------------------------------------


class AgencyCreate(_Request):
    """A new agency of the branch; its id must start with the branch id and a dash."""

    id: Slug
    name: Name


class ServiceFields(_Request):
    """What a service has, in the hall file's units (minutes)."""

    name: Name | None = None
    prefix: Prefix | None = None
    quota: Annotated[int, Field(ge=1, le=999)] | None = None
    service_minutes: Annotated[int, Field(ge=1, le=480)] | None = None
    target_wait_minutes: Annotated[int, Field(ge=1, le=600)] | None = None
    hours: Hours | None = None
    breaks: Annotated[list[Json], Field(max_length=20)] | None = None
    holidays: Annotated[list[Any], Field(max_length=400)] | None = None
    issuing_cutoff_minutes: Annotated[int, Field(ge=0, le=600)] | None = None
    position: Annotated[int, Field(ge=0, le=10000)] | None = None


class ServiceCreate(ServiceFields):
    """A new service of an agency; ``id`` starts with the branch id and a dash."""

    id: Slug
    agency_id: Slug
    name: Name
    prefix: Prefix
    quota: Annotated[int, Field(ge=1, le=999)]


class ServicePatch(ServiceFields):
    """Changes to a service; ``deleted: true`` removes it (its history stays)."""

    agency_id: Slug | None = None
    deleted: bool | None = None


class CounterFields(_Request):
    """What a counter has: its name, zone and the services it serves in order of preference."""

    name: Name | None = None
    zone: Slug | None = None
    service_ids: Annotated[list[Slug], Field(min_length=1, max_length=100)] | None = None
    position: Annotated[int, Field(ge=0, le=10000)] | None = None


class CounterCreate(CounterFields):
    """A new counter; ``id`` starts with the branch id and a dash."""

    id: Slug
    name: Name
    zone: Slug
    service_ids: Annotated[list[Slug], Field(min_length=1, max_length=100)]


class CounterPatch(CounterFields):
    """Changes to a counter; ``deleted: true`` removes it (its history stays)."""

    deleted: bool | None = None


class AgencyOut(_Response):
    """An agency as stored."""

    id: str
    branch_id: str
    name: str


class ServiceOut(_Response):
    """A service as stored (seconds, as the branch detail shows them)."""

    id: str
    branch_id: str
    agency_id: str
    name: str
    prefix: str
    daily_quota: int
    expected_service_seconds: int
    target_wait_seconds: int
    hours: dict[str, str | None] | None
    rules: dict[str, Any] | None
    deleted: bool
    issuing_open: bool
    issuing_stop_reason: str | None


class CounterOut(_Response):
    """A counter as stored."""

    id: str
    branch_id: str
    name: str
    zone: str
    service_ids: list[str]
    status: str
    deleted: bool


# -- supervision ----------------------------------------------------------------------------


class IssuingSwitch(_Request):
    """Open or stop issuing for a service for the rest of today, with the reason the kiosk shows."""

    open: bool
    reason: Reason | None = None


class IssuingState(_Response):
    """Whether a service issues today, and why not."""

    service_id: str
    open: bool
    reason: str | None
    business_date: date


class TicketCancel(_Request):
    """Why staff cancel a waiting ticket (kept in the audit trail)."""

    reason: Reason


class TicketMove(_Request):
    """The service a waiting ticket moves to; it keeps its number and place in line."""

    service_id: Slug


class Announcement(_Request):
    """A running text for the hall screens: a marquee line until ``until``, or spoken once."""

    text: Reason
    mode: Literal["marquee", "speak_once"] = "marquee"
    until: datetime | None = None


class AnnouncementOut(_Response):
    """The announcement as sent to the hall screens."""

    branch_id: str
    text: str
    mode: Literal["marquee", "speak_once"]
    until: datetime | None


class MonitoredCounter(_Response):
    """A counter on the supervisor's monitor."""

    counter_id: str
    name: str
    zone: str
    status: str
    service_ids: list[str]
    operator: str | None
    ticket_number: str | None
    ticket_status: str | None
    serving_seconds: int | None = Field(description="since the current ticket was called or started")
    idle_seconds: int | None = Field(description="an open counter without a ticket: since its last one")


class WaitingTicket(_Response):
    """A waiting ticket the supervisor may move or cancel."""

    ticket_id: str = Field(json_schema_extra={"format": "uuid"})
    number: str
    service_id: str
    waited_seconds: int


class Monitor(_Response):
    """The hall floor now: counters, and the queue per service with its closing-time forecast."""

    branch_id: str
    at: datetime
    counters: list[MonitoredCounter]
    queue: Queue
    waiting: list[WaitingTicket] = Field(description="today's waiting tickets in calling order (at most 200)")


class AuditItem(_Response):
    """One audit entry: who did what to which target, when, before and after."""

    at: datetime
    actor: str
    action: str
    target: str
    branch_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditList(_Response):
    """Audit entries, newest first."""

    items: list[AuditItem]
