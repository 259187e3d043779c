"""The ``data`` of every event type: one frozen model each, and the registry type → model.

Producers build events only from these models and consumers read events only
through them, so a limit (a length, a range, the IKM scores) lives here once.
Every event's data names its branch, the branch's IANA ``timezone`` and the
``business_date`` the event counts for, so no consumer has to ask ticketing.

Adding an event type: add it to :class:`~services.events.envelope.EventType`,
write its model here (subclass :class:`EventData` or a family base, set
``event_type``), list it in ``_MODELS`` and run ``make docs``.
Producers may add fields later (consumers ignore fields they do not know);
they never remove or rename one.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.events.types import Count, Id, Moment, Name, Number, Scores, Timezone, Username, Zone


class EventType(enum.StrEnum):
    """Every event type the hall knows."""

    TICKET_ISSUED = "ticket.issued"
    TICKET_CALLED = "ticket.called"
    TICKET_RECALLED = "ticket.recalled"
    TICKET_SERVING = "ticket.serving"
    TICKET_COMPLETED = "ticket.completed"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_TRANSFERRED = "ticket.transferred"
    TICKET_CANCELLED = "ticket.cancelled"
    COUNTER_OPENED = "counter.opened"
    COUNTER_PAUSED = "counter.paused"
    COUNTER_CLOSED = "counter.closed"
    SURVEY_SUBMITTED = "survey.submitted"
    TICKET_PARKED = "ticket.parked"
    TICKET_RETURNED = "ticket.returned"
    TICKET_REACTIVATED = "ticket.reactivated"
    HALL_CONFIGURED = "hall.configured"
    HALL_ANNOUNCEMENT = "hall.announcement"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_CHECKED_IN = "appointment.checked_in"
    APPOINTMENT_EXPIRED = "appointment.expired"
    APPOINTMENT_REMINDER_DUE = "appointment.reminder_due"
    TICKET_NEAR = "ticket.near"

    @property
    def is_ticket_event(self) -> bool:
        """True for the ``ticket.*`` types, whose data describes one ticket."""
        return self.value.startswith("ticket.")


TicketStatus = Literal["waiting", "called", "serving", "completed", "no_show", "cancelled", "parked"]
CounterStatus = Literal["open", "paused", "closed"]
Channel = Literal["kiosk", "online"]
PriorityGroup = Literal["lansia", "disabilitas", "ibu_hamil"]
CancelReason = Literal["citizen", "day_closed", "staff"]
PauseReason = Literal["istirahat", "sholat", "rapat", "gangguan"]
NoShowReason = Literal["recalls", "park_expired"]
AppointmentStatus = Literal["booked", "checked_in", "cancelled", "expired"]


class EventData(BaseModel):
    """What every event's data carries: the branch, its time zone and the business day."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: ClassVar[EventType]

    branch_id: Id = Field(description="equals the envelope's `branchid`")
    timezone: Timezone = Field(description="the branch's IANA time zone, e.g. `Asia/Makassar`")
    business_date: date = Field(description="the branch-local business day the event counts for")


class TicketData(EventData):
    """What every ``ticket.*`` event carries: the ticket as it stands after the event."""

    ticket_id: Id
    number: Number = Field(description="as shown, e.g. `A012`")
    service_id: Id = Field(description="the service the ticket waits for now")
    service_name: Name
    agency_id: Id = Field(description="the agency of that service")
    agency_name: Name
    counter_id: Id | None = Field(default=None, description="the counter involved")
    counter_name: Name | None = None
    zone: Zone | None = Field(default=None, description="the counter's zone, e.g. `lantai-1`")
    priority: bool = Field(description="a priority-group ticket")
    priority_group: PriorityGroup | None = None
    channel: Channel
    issued_at: Moment
    status: TicketStatus = Field(description="the ticket's status after this event")


class AtCounter(TicketData):
    """A ticket event that happens at a counter: the counter is always named."""

    counter_id: Id
    counter_name: Name


class TicketIssued(TicketData):
    """A citizen took a ticket (kiosk or online)."""

    event_type = EventType.TICKET_ISSUED
    position: Count = Field(description="1 = next in line")
    estimated_wait_seconds: Count
    target_wait_seconds: Count | None = Field(default=None, description="the service's service-level target")


class TicketCalled(AtCounter):
    """An operator called the ticket to a counter."""

    event_type = EventType.TICKET_CALLED
    called_at: Moment
    operator: Username | None = None
    forced: bool = Field(default=False, description="an admin called this ticket out of turn")


class TicketRecalled(AtCounter):
    """The counter called the ticket again."""

    event_type = EventType.TICKET_RECALLED
    recall_count: Count = Field(description="1 for the first recall")


class TicketServing(AtCounter):
    """The citizen arrived at the counter; service started."""

    event_type = EventType.TICKET_SERVING
    serving_at: Moment


class TicketCompleted(AtCounter):
    """Service finished."""

    event_type = EventType.TICKET_COMPLETED
    completed_at: Moment
    serving_at: Moment | None = None


class TicketNoShow(AtCounter):
    """The citizen did not come after the recalls the branch requires."""

    event_type = EventType.TICKET_NO_SHOW
    recall_count: Count
    reason: NoShowReason = Field(
        default="recalls", description="`park_expired`: parked and not returned within the window"
    )


class TicketTransferred(TicketData):
    """The ticket waits again, for another service; it keeps its number and its place.

    ``service_id``/``agency_id`` are the new service; ``counter_id`` is the
    counter that transferred it.
    """

    event_type = EventType.TICKET_TRANSFERRED
    from_service_id: Id
    from_agency_id: Id
    from_counter_id: Id | None = None
    operator: Username | None = None


class TicketCancelled(TicketData):
    """The ticket will not be served.

    ``day_closed``: it was still waiting when its business day ended; the
    event's ``time`` falls on the next day while ``business_date`` stays the
    ticket's own day.
    """

    event_type = EventType.TICKET_CANCELLED
    reason: CancelReason = "citizen"


class CounterData(EventData):
    """What every ``counter.*`` event carries: the counter after the change."""

    counter_id: Id
    counter_name: Name
    zone: Zone | None = None
    service_ids: tuple[Id, ...]
    status: CounterStatus
    operator: Username | None = None


class CounterOpened(CounterData):
    """The counter opened (or resumed after a pause)."""

    event_type = EventType.COUNTER_OPENED


class CounterPaused(CounterData):
    """The counter paused (a break)."""

    event_type = EventType.COUNTER_PAUSED
    reason: PauseReason | None = Field(
        default=None, description="why: istirahat (break), sholat (prayer), rapat (meeting), gangguan (fault)"
    )


class CounterClosed(CounterData):
    """The counter closed."""

    event_type = EventType.COUNTER_CLOSED


class Respondent(BaseModel):
    """The optional respondent profile of PermenPAN-RB 14/2017 (each item may be left out)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    sex: Literal["laki_laki", "perempuan"] | None = None
    age_group: Literal["under_20", "20_29", "30_39", "40_49", "50_59", "60_plus"] | None = None
    education: Literal["sd", "smp", "sma", "diploma", "s1", "s2", "s3"] | None = None
    occupation: Literal["pns", "tni", "polri", "swasta", "wirausaha", "pelajar", "lainnya"] | None = None


class SurveySubmitted(EventData):
    """A citizen rated a completed ticket (the IKM survey, PermenPAN-RB 14/2017)."""

    event_type = EventType.SURVEY_SUBMITTED
    ticket_id: Id
    number: Number
    agency_id: Id
    service_id: Id
    counter_id: Id | None = None
    scores: Scores = Field(description="the nine IKM element scores in the regulation's order, each 1-4")
    submitted_at: Moment
    via: Literal["ticket", "desk"] | None = Field(
        default=None, description="the ticket page's survey or the QR code on the counter's desk"
    )
    respondent: Respondent | None = Field(default=None, description="the optional respondent profile")
    saran: str | None = Field(default=None, max_length=1000, description="the citizen's free-text suggestion")


class TicketParked(AtCounter):
    """A called citizen stepped out (a photocopy, a missing document): the counter is free again.

    ``counter_id`` is the counter that parked it; the ticket keeps its place
    (``queued_at``) and may return until ``return_by``.
    """

    event_type = EventType.TICKET_PARKED
    parked_at: Moment
    return_by: Moment
    operator: Username | None = None


class TicketReturned(TicketData):
    """A parked ticket waits again, at its original place in line (the next call takes it)."""

    event_type = EventType.TICKET_RETURNED
    returned_at: Moment
    parked_at: Moment
    operator: Username | None = None


class TicketReactivated(TicketData):
    """A no-show waits again, at its original place, within the reactivation window."""

    event_type = EventType.TICKET_REACTIVATED
    reactivated_at: Moment
    operator: Username | None = None


class HallConfigured(EventData):
    """The hall's master data changed (an agency, service or counter, or a service's issuing switch):
    kiosks, screens and metrics re-read the branch."""

    event_type = EventType.HALL_CONFIGURED
    kind: Literal["agency", "service", "counter", "issuing"]
    action: Literal["created", "updated", "deleted"]
    id: Id = Field(description="the agency, service or counter that changed")
    fields: tuple[Annotated[str, StringConstraints(max_length=64)], ...] = Field(
        default=(), max_length=64, description="the names of the fields that changed"
    )
    actor: Username | None = None


class HallAnnouncement(EventData):
    """A running text for the hall screens: a marquee line until ``until``, or spoken once."""

    event_type = EventType.HALL_ANNOUNCEMENT
    text: Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]
    mode: Literal["marquee", "speak_once"]
    until: Moment | None = None
    actor: Username | None = None


class AppointmentData(EventData):
    """What every ``appointment.*`` event carries: the booking as it stands after the event.

    No personal data: the citizen's name, phone and NIK never enter the log.
    ``business_date`` is the branch-local day the event happened (a booking for
    next week is booked today); ``slot_date`` is the day of the slot.
    """

    booking_code: Id = Field(description="the code the citizen shows at check-in")
    slot_date: date = Field(description="the branch-local day of the slot")
    service_id: Id
    service_name: Name
    agency_id: Id
    slot_start: Moment
    slot_end: Moment
    status: AppointmentStatus = Field(description="the booking's status after this event")


class AppointmentBooked(AppointmentData):
    """A citizen booked a slot (antrian online)."""

    event_type = EventType.APPOINTMENT_BOOKED
    booked_at: Moment
    rescheduled_from: Moment | None = Field(default=None, description="the earlier slot, on a reschedule")


class AppointmentCancelled(AppointmentData):
    """The citizen cancelled, or moved the booking to another slot (``reason`` says which)."""

    event_type = EventType.APPOINTMENT_CANCELLED
    reason: Literal["citizen", "rescheduled"] = "citizen"


class AppointmentCheckedIn(AppointmentData):
    """The citizen checked in: the booking became a ticket.

    On time, the ticket is queued at the slot start; ``late`` means the window
    had closed and the ticket is an ordinary walk-in queued on arrival.
    """

    event_type = EventType.APPOINTMENT_CHECKED_IN
    ticket_id: Id
    number: Number
    late: bool
    queued_at: Moment = Field(description="the ticket's place in line")
    checked_in_at: Moment


class AppointmentExpired(AppointmentData):
    """Nobody checked in before the window closed: a booking no-show."""

    event_type = EventType.APPOINTMENT_EXPIRED


class AppointmentReminderDue(AppointmentData):
    """A reminder is due to the citizen's phone (sent by the notification port)."""

    event_type = EventType.APPOINTMENT_REMINDER_DUE
    kind: Literal["day_before", "hour_before"]


class TicketNear(EventData):
    """A checked-in online ticket has only ``ahead`` tickets before it ("3 more before you")."""

    event_type = EventType.TICKET_NEAR
    ticket_id: Id
    number: Number
    service_id: Id
    agency_id: Id
    booking_code: Id | None = None
    ahead: Count


_MODELS: tuple[type[EventData], ...] = (
    TicketIssued,
    TicketCalled,
    TicketRecalled,
    TicketServing,
    TicketCompleted,
    TicketNoShow,
    TicketTransferred,
    TicketCancelled,
    CounterOpened,
    CounterPaused,
    CounterClosed,
    SurveySubmitted,
    TicketParked,
    TicketReturned,
    TicketReactivated,
    HallConfigured,
    HallAnnouncement,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentExpired,
    AppointmentReminderDue,
    TicketNear,
)
DATA_MODELS: dict[EventType, type[EventData]] = {model.event_type: model for model in _MODELS}
"""The one data model of each event type."""
