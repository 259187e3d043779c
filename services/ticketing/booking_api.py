"""The HTTP edge of appointments (antrian online): slots, booking, check-in, cancel, reschedule.

Thin handlers over :mod:`services.ticketing.bookings`. Booking is public and
limited twice: per client address at the edge (``limits.GROUPS`` names these
routes) and here per person (the keyed NIK/phone hash), so one NIK cannot
hold a slot hostage from many addresses.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.platform import validation
from services.platform.openapi import Content, Operation, Param
from services.ticketing import bookings, limits, schemas, sessions
from services.ticketing.domain import qr
from services.ticketing.domain.throttle import Limit, RateLimiter
from services.ticketing.errors import Forbidden, InvalidRequest, TooManyRequests
from services.ticketing.keys import CLOCK, POOL, SETTINGS

NIK_LIMITER = web.AppKey("nik_limiter", RateLimiter)
NIK_LIMIT = Limit(rate=1 / 60, burst=5)  # five bookings at once, then one a minute per person

Nik = Annotated[str, StringConstraints(pattern=r"^[0-9]{16}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{5,19}$")]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BookingRequest(_Request):
    """A slot to book; ``nik`` when the service requires it (stored only as a keyed hash)."""

    service_id: schemas.Text
    slot_start: AwareDatetime = Field(description="the start of one of the service's slots")
    name: PersonName | None = None
    phone: Phone | None = Field(default=None, description="for reminders and the 3-before-you message")
    nik: Nik | None = Field(default=None, description="the 16-digit NIK; never stored, only its keyed hash")


class RescheduleRequest(_Request):
    """Move the booking to another slot of the same service."""

    slot_start: AwareDatetime


class SlotItem(_Response):
    """One slot and its seats left."""

    start: str = Field(json_schema_extra={"format": "date-time"})
    end: str = Field(json_schema_extra={"format": "date-time"})
    capacity: int
    available: int


class SlotList(_Response):
    """The bookable slots of a service on one day."""

    service_id: str
    date: str = Field(json_schema_extra={"format": "date"})
    timezone: str
    require_nik: bool
    items: list[SlotItem]


class Booking(_Response):
    """A booking (the NIK and its hash are never shown)."""

    code: str = Field(examples=["K7M2Q9XD"])
    status: str = Field(json_schema_extra={"enum": ["booked", "checked_in", "cancelled", "expired"]})
    branch_id: str
    service_id: str
    service_name: str
    date: str = Field(json_schema_extra={"format": "date"})
    slot_start: str = Field(json_schema_extra={"format": "date-time"})
    slot_end: str = Field(json_schema_extra={"format": "date-time"})
    check_in_opens: str = Field(json_schema_extra={"format": "date-time"})
    check_in_closes: str = Field(json_schema_extra={"format": "date-time"})
    name: str | None
    late: bool
    ticket_id: str | None
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class CheckedIn(schemas.Ticket):
    """The ticket the booking became, with the booking code and what happened."""

    booking_code: str
    late: bool = Field(description="the window had closed: an ordinary walk-in ticket, queued on arrival")
    message: str


def setup(app: web.Application) -> None:
    """The per-person booking limiter of this process."""
    app[NIK_LIMITER] = RateLimiter(NIK_LIMIT)


async def require_kiosk(request: web.Request, channel: str) -> None:
    """With ``TICKETING_REQUIRE_KIOSK_TOKEN``, a walk-in (kiosk) ticket needs a registered kiosk or staff."""
    settings = request.app[SETTINGS]
    if not settings.require_kiosk_token or channel != "kiosk":
        return
    tokens = settings.kiosk_tokens
    if limits.is_registered_kiosk(request, tokens):
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        await sessions.authenticate(request.app[POOL], request.app[CLOCK](), token.strip())
        return
    raise Forbidden(
        f"walk-in tickets come only from the hall's registered kiosks ({limits.KIOSK_TOKEN_HEADER});"
        " book online at /book/{branch} instead"
    )


def _code(request: web.Request) -> str:
    return bookings.normalise_code(request.match_info["code"])


def _json(model: type[BaseModel], data: Any, status: int = 200) -> web.Response:
    model.model_validate(data)
    return web.json_response(data, status=status)


async def list_slots(request: web.Request) -> web.Response:
    """The slots of a service on a day with their seats left."""
    service_id = request.match_info["service_id"]
    raw = request.query.get("date", "")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(f"date must be YYYY-MM-DD, not {raw[:20]!r}") from None
    if len(raw) != 10:
        raise InvalidRequest("date must be YYYY-MM-DD")
    result = await bookings.list_slots(request.app[POOL], request.app[CLOCK](), service_id, day)
    return _json(SlotList, result)


async def create_booking(request: web.Request) -> web.Response:
    """Book a slot (public): 201 with the booking code; 409 when the slot is full or already booked."""
    body = await validation.json_body(request, BookingRequest)
    secret = request.app[SETTINGS].nik_secret
    key = bookings.person_key(secret, nik=body.nik, phone=body.phone)
    if key is not None:
        wait = request.app[NIK_LIMITER].take(key, time.monotonic())
        if wait > 0:
            raise TooManyRequests("too many bookings for this person; please wait", retry_after=wait)
    booking = await bookings.book(
        request.app[POOL],
        request.app[CLOCK](),
        secret,
        service_id=body.service_id,
        slot_start=body.slot_start,
        name=body.name,
        phone=body.phone,
        nik=body.nik,
    )
    response = _json(Booking, booking, status=201)
    response.headers["Location"] = f"/api/v1/bookings/{booking['code']}"
    return response


async def get_booking(request: web.Request) -> web.Response:
    """A booking by its code."""
    return _json(Booking, await bookings.get_booking(request.app[POOL], _code(request)))


async def check_in(request: web.Request) -> web.Response:
    """Check in (kiosk scan or phone in the window): 201 with the ticket the booking became."""
    code = _code(request)
    await validation.no_body(request)
    ticket, booking = await bookings.check_in(request.app[POOL], request.app[CLOCK](), code)
    if booking["late"]:
        message = (
            "Anda terlambat lebih dari 15 menit: nomor Anda antrian biasa (walk-in),"
            " sesuai urutan kedatangan."
            " You are late: your number joins the walk-in queue."
        )
    else:
        message = (
            "Check-in berhasil: Anda dipanggil sekitar jadwal Anda."
            " Checked in: you are called around your slot."
        )
    result = {**ticket, "booking_code": booking["code"], "late": booking["late"], "message": message}
    return _json(CheckedIn, result, status=201)


async def cancel_booking(request: web.Request) -> web.Response:
    """Cancel a booking by its code: 204; its seat is free again."""
    code = _code(request)
    await validation.no_body(request)
    await bookings.cancel(request.app[POOL], request.app[CLOCK](), code)
    return web.Response(status=204)


async def reschedule_booking(request: web.Request) -> web.Response:
    """Move a booking to another slot of its service."""
    code = _code(request)
    body = await validation.json_body(request, RescheduleRequest)
    return _json(
        Booking, await bookings.reschedule(request.app[POOL], request.app[CLOCK](), code, body.slot_start)
    )


async def booking_qr(request: web.Request) -> web.Response:
    """A QR code (SVG) of the booking code: the kiosk's scanner types it back."""
    booking = await bookings.get_booking(request.app[POOL], _code(request))
    return web.Response(text=qr.svg(booking["code"]), content_type="image/svg+xml")


def _validated(handler: Any) -> Any:
    from services.ticketing.api import _validated as wrap

    return wrap(handler)


_SERVICE = Param("service_id", "path", {"type": "string", "pattern": schemas.ID_PATTERN})
_DATE = Param("date", "query", {"type": "string", "format": "date"}, description="YYYY-MM-DD, branch-local")
_CODE = Param(
    "code", "path", {"type": "string", "pattern": r"^[A-Za-z0-9-]{1,40}$"}, description="the booking code"
)
_BOOKING = {200: Content(Booking)}
_BODY = (400, 413, 415, 422)
_SVG = Content(media_type="image/svg+xml", description="SVG image")
_LOCATION = {"Location": "the booking's URL"}


def operations() -> list[Operation]:
    """The appointment operations with their handlers and contracts."""
    v = _validated
    return [
        Operation("GET", "/api/v1/services/{service_id}/slots", v(list_slots),
                  "Bookable slots of a service on a day, with seats left", ("bookings",), (_SERVICE, _DATE),
                  responses={200: Content(SlotList)}, problems=(404, 409, 422, 503)),
        Operation("POST", "/api/v1/bookings", v(create_booking), "Book a slot (public); 409 when it is full",
                  ("bookings",), body=BookingRequest,
                  responses={201: Content(Booking, description="Booked", headers=_LOCATION)},
                  problems=(404, 409, 429, *_BODY, 503)),
        Operation("GET", "/api/v1/bookings/{code}", v(get_booking), "A booking by its code", ("bookings",),
                  (_CODE,), responses=_BOOKING, problems=(404, 503)),
        Operation("GET", "/api/v1/bookings/{code}/qr.svg", v(booking_qr), "A QR code (SVG) of the code",
                  ("bookings",), (_CODE,), responses={200: _SVG}, problems=(404, 503)),
        Operation("PATCH", "/api/v1/bookings/{code}", v(reschedule_booking), "Move a booking to another slot",
                  ("bookings",), (_CODE,), body=RescheduleRequest, responses=_BOOKING,
                  problems=(404, 409, *_BODY, 503)),
        Operation("DELETE", "/api/v1/bookings/{code}", v(cancel_booking), "Cancel a booking", ("bookings",),
                  (_CODE,), responses={204: Content(media_type="", description="Cancelled")},
                  problems=(404, 409, 413, 415, 503)),
        Operation("POST", "/api/v1/bookings/{code}/check-in", v(check_in),
                  "Check in by code: the booking becomes a ticket queued at its slot time", ("bookings",),
                  (_CODE,), responses={201: Content(CheckedIn, description="The ticket it became")},
                  problems=(404, 409, 413, 415, 503)),
    ]  # fmt: skip


# The booking page (registered by pages.py), documented here.
PAGES = [
    Operation("GET", "/book/{branch_id}", None, "Booking page: agency, service, date, slot; code and QR",
              ("pages",), (Param("branch_id", "path", {"type": "string"}),),
              responses={200: Content(media_type="text/html")}),
    # its script and stylesheet are served by pages.py's /static/{filename}
]  # fmt: skip
