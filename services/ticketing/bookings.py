"""Bookings (antrian online) in PostgreSQL: slots, booking, cancel, reschedule, check-in, expiry.

Seats are counted in ``booking_days`` (the online share of the day's quota)
and ``booking_slots`` (each slot's capacity), always locked in that order.
A booking takes a seat with a conditional ``UPDATE … SET taken = taken + 1
WHERE taken < capacity``: the row lock serialises concurrent bookings and the
table's CHECK makes an overfilled slot impossible even for a buggy caller.
One active booking per person (NIK hash, or phone) per service per day is a
partial unique index. Every change and its event go in one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.events import CloudEvent, EventType, new_event
from services.events.data import DATA_MODELS, AppointmentData
from services.ticketing import notify, outbox, tickets
from services.ticketing.db import load_json
from services.ticketing.domain import merge
from services.ticketing.domain.numbering import MAX_NUMBER, business_date
from services.ticketing.domain.schedule import Schedule, check_issuing
from services.ticketing.domain.slots import (
    BookingRules,
    Slot,
    day_slots,
    find_slot,
    online_quota,
    parse_rules,
)
from services.ticketing.errors import Conflict, InvalidRequest, IssuingRefused, NotFound
from services.ticketing.eventdata import SOURCE, rfc3339, ticket_event

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed at a kiosk
CODE_LENGTH = 8

_SERVICE = """
SELECT s.id, s.name, s.agency_id, s.prefix, s.daily_quota, s.hours, s.schedule, s.booking,
       s.target_wait_seconds, a.name AS agency_name,
       b.id AS branch_id, b.schedule AS branch_schedule, b.timezone
  FROM services s JOIN branches b ON b.id = s.branch_id JOIN agencies a ON a.id = s.agency_id
 WHERE s.id = $1
"""
BOOKING_SELECT = """
SELECT k.*, s.name AS service_name, s.agency_id, b.timezone
  FROM bookings k JOIN services s ON s.id = k.service_id JOIN branches b ON b.id = k.branch_id
"""


class SlotFull(Conflict):
    """The slot (or the day's online share) has no seat left."""

    title = "Slot full"
    type_slug = "slot-full"


class AlreadyBooked(Conflict):
    """This person already holds an active booking for this service on this day."""

    title = "Already booked"
    type_slug = "already-booked"


def new_code() -> str:
    """A random booking code (8 characters, about 40 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """A code as typed or scanned: upper case, without spaces or dashes; NotFound when malformed."""
    code = raw.strip().upper().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise NotFound(f"no booking {raw[:40]!r}")
    return code


def person_key(secret: str, *, nik: str | None, phone: str | None) -> str | None:
    """The keyed hash (HMAC-SHA256) naming a person: of the NIK, else of the phone; never stored raw."""
    if nik:
        subject = "nik:" + nik
    elif phone:
        subject = "phone:" + "".join(ch for ch in phone if ch.isdigit()).removeprefix("62").lstrip("0")
    else:
        return None
    return hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()


async def _service(
    conn: asyncpg.Connection, service_id: str
) -> tuple[dict[str, Any], Schedule, BookingRules]:
    row = await conn.fetchrow(_SERVICE, service_id)
    if row is None:
        raise NotFound(f"no service {service_id!r}")
    schedule = tickets.branch_schedule({"schedule": row["branch_schedule"]}, row["hours"], row["schedule"])
    try:
        rules = parse_rules(load_json(row["booking"]))
    except ValueError as exc:
        raise Conflict(f"service {service_id!r} has invalid booking settings: {exc}") from exc
    return dict(row), schedule, rules


def _check_day(now: datetime, day: date, schedule: Schedule, rules: BookingRules) -> None:
    today = business_date(now, schedule.timezone)
    if not rules.enabled:
        raise Conflict("this service does not take bookings")
    if day < today or day > today + timedelta(days=rules.days_ahead):
        raise InvalidRequest(f"bookings are open from {today} to {today + timedelta(days=rules.days_ahead)}")


async def list_slots(pool: asyncpg.Pool, now: datetime, service_id: str, day: date) -> dict[str, Any]:
    """The bookable slots of a service on a day with their seats left (none once a slot has started)."""
    async with pool.acquire() as conn:
        service, schedule, rules = await _service(conn, service_id)
        _check_day(now, day, schedule, rules)
        slots = day_slots(schedule, day, service["daily_quota"], rules)
        taken = {
            r["slot_start"]: r["taken"]
            for r in await conn.fetch(
                "SELECT slot_start, taken FROM booking_slots WHERE service_id = $1 AND slot_start = ANY($2)",
                service_id,
                [s.start for s in slots],
            )
        }
        day_row = await conn.fetchrow(
            "SELECT quota, taken FROM booking_days WHERE service_id = $1 AND business_date = $2",
            service_id,
            day,
        )
    day_left = online_quota(service["daily_quota"], rules) - (day_row["taken"] if day_row else 0)
    items = [
        {
            "start": rfc3339(s.start),
            "end": rfc3339(s.end),
            "capacity": s.capacity,
            "available": 0 if s.start <= now else max(0, min(s.capacity - taken.get(s.start, 0), day_left)),
        }
        for s in slots
    ]
    return {
        "service_id": service_id,
        "date": day.isoformat(),
        "timezone": schedule.timezone.key,
        "require_nik": rules.require_nik,
        "items": items,
    }


async def _take_seat(
    conn: asyncpg.Connection, service: Mapping[str, Any], rules: BookingRules, slot: Slot, day: date
) -> None:
    """Take a seat of the day's online share and of the slot (caller's transaction), or SlotFull."""
    quota = online_quota(service["daily_quota"], rules)
    await conn.execute(
        "INSERT INTO booking_days (service_id, business_date, quota) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        service["id"],
        day,
        quota,
    )
    ok = await conn.fetchval(
        "UPDATE booking_days SET taken = taken + 1"
        " WHERE service_id = $1 AND business_date = $2 AND taken < quota"
        " RETURNING taken",
        service["id"],
        day,
    )
    if ok is None:
        raise SlotFull(
            "the online share of this day's quota is fully booked; the kiosk still serves walk-ins"
        )
    await conn.execute(
        "INSERT INTO booking_slots (service_id, slot_start, capacity) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        service["id"],
        slot.start,
        slot.capacity,
    )
    ok = await conn.fetchval(
        "UPDATE booking_slots SET taken = taken + 1"
        " WHERE service_id = $1 AND slot_start = $2 AND taken < capacity"
        " RETURNING taken",
        service["id"],
        slot.start,
    )
    if ok is None:
        raise SlotFull("this slot is full; please choose another")


async def _release_seat(conn: asyncpg.Connection, booking: Mapping[str, Any]) -> None:
    await conn.execute(
        "UPDATE booking_days SET taken = taken - 1"
        " WHERE service_id = $1 AND business_date = $2 AND taken > 0",
        booking["service_id"],
        booking["business_date"],
    )
    await conn.execute(
        "UPDATE booking_slots SET taken = taken - 1 WHERE service_id = $1 AND slot_start = $2 AND taken > 0",
        booking["service_id"],
        booking["slot_start"],
    )


def _resolve_slot(
    now: datetime, service: Mapping[str, Any], schedule: Schedule, rules: BookingRules, slot_start: datetime
) -> tuple[Slot, date]:
    local = slot_start.astimezone(schedule.timezone)
    day = local.date()
    _check_day(now, day, schedule, rules)
    slot = find_slot(day_slots(schedule, day, service["daily_quota"], rules), local)
    if slot is None or slot.capacity == 0:
        raise InvalidRequest(f"{local.isoformat()} is not a bookable slot of this service; see its slots")
    if slot.start <= now:
        raise Conflict("this slot has already started; please choose a later one")
    return slot, day


def booking_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """The booking as the API shows it (never the NIK or its hash)."""
    span = merge.window(row["slot_start"])
    return {
        "code": row["code"],
        "status": row["status"],
        "branch_id": row["branch_id"],
        "service_id": row["service_id"],
        "service_name": row["service_name"],
        "date": row["business_date"].isoformat(),
        "slot_start": rfc3339(row["slot_start"]),
        "slot_end": rfc3339(row["slot_end"]),
        "check_in_opens": rfc3339(span.opens),
        "check_in_closes": rfc3339(span.closes),
        "name": row["name"],
        "late": row["late"],
        "ticket_id": str(row["ticket_id"]) if row["ticket_id"] else None,
        "created_at": rfc3339(row["created_at"]),
    }


def appointment_event(
    event_type: EventType, row: Mapping[str, Any], now: datetime, **extra: Any
) -> CloudEvent:
    """An ``appointment.*`` event from a joined booking row."""
    model = DATA_MODELS[event_type]
    assert issubclass(model, AppointmentData), event_type
    data = model.model_validate(
        {
            "branch_id": row["branch_id"],
            "timezone": row["timezone"],
            "business_date": now.astimezone(ZoneInfo(row["timezone"])).date(),
            "slot_date": row["business_date"],
            "booking_code": row["code"],
            "service_id": row["service_id"],
            "service_name": row["service_name"],
            "agency_id": row["agency_id"],
            "slot_start": row["slot_start"],
            "slot_end": row["slot_end"],
            "status": row["status"],
            **extra,
        }
    )
    return new_event(data, source=SOURCE, subject=row["code"], time=now)


async def fetch_booking(conn: asyncpg.Connection, code: str, *, lock: bool = False) -> asyncpg.Record:
    """The joined booking row; NotFound when there is none."""
    row = await conn.fetchrow(
        BOOKING_SELECT + " WHERE k.code = $1" + (" FOR UPDATE OF k" if lock else ""), code
    )
    if row is None:
        raise NotFound(f"no booking {code!r}")
    return row


async def book(
    pool: asyncpg.Pool,
    now: datetime,
    secret: str,
    *,
    service_id: str,
    slot_start: datetime,
    name: str | None,
    phone: str | None,
    nik: str | None,
) -> dict[str, Any]:
    """Book a seat in a slot; SlotFull (409) when none is left, AlreadyBooked (409) for a second one."""
    async with pool.acquire() as conn:
        service, schedule, rules = await _service(conn, service_id)
        if rules.require_nik and not nik:
            raise InvalidRequest("this service needs the NIK (16 digits) to book")
        slot, day = _resolve_slot(now, service, schedule, rules, slot_start)
        key = person_key(secret, nik=nik, phone=phone)
        code = new_code()
        try:
            async with conn.transaction():
                await _take_seat(conn, service, rules, slot, day)
                await conn.execute(
                    "INSERT INTO bookings (code, branch_id, service_id, business_date, slot_start, slot_end,"
                    " name,"
                    " phone, person_key, status, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', $10, $10)",
                    code, service["branch_id"], service_id, day, slot.start, slot.end, name, phone, key, now,
                )  # fmt: skip
                row = await fetch_booking(conn, code)
                await outbox.enqueue(
                    conn, appointment_event(EventType.APPOINTMENT_BOOKED, row, now, booked_at=now)
                )
                await notify.schedule_reminders(conn, now, row)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "bookings_one_per_person":
                raise AlreadyBooked(
                    "you already hold a booking for this service on this day; cancel or reschedule it"
                ) from None
            raise
        log.info("booked %s at %s (%s %s)", code, service["branch_id"], service_id, slot.start.isoformat())
        return booking_view(row)


async def get_booking(pool: asyncpg.Pool, code: str) -> dict[str, Any]:
    """A booking as it stands now."""
    async with pool.acquire() as conn:
        return booking_view(await fetch_booking(conn, code))


def _require_booked(row: Mapping[str, Any]) -> None:
    if row["status"] != "booked":
        raise Conflict(f"this booking is {row['status'].replace('_', ' ')}")


async def cancel(pool: asyncpg.Pool, now: datetime, code: str) -> None:
    """The citizen cancels a booking: its seat is free again and its reminders are dropped."""
    async with pool.acquire() as conn, conn.transaction():
        row = await fetch_booking(conn, code, lock=True)
        _require_booked(row)
        await conn.execute(
            "UPDATE bookings SET status = 'cancelled', updated_at = $2 WHERE code = $1", code, now
        )
        await _release_seat(conn, row)
        await notify.drop(conn, code)
        cancelled = {**row, "status": "cancelled"}
        await outbox.enqueue(conn, appointment_event(EventType.APPOINTMENT_CANCELLED, cancelled, now))


async def reschedule(pool: asyncpg.Pool, now: datetime, code: str, slot_start: datetime) -> dict[str, Any]:
    """Move a booking to another slot of the same service (a seat there, or SlotFull)."""
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                row = await fetch_booking(conn, code, lock=True)
                _require_booked(row)
                service, schedule, rules = await _service(conn, row["service_id"])
                slot, day = _resolve_slot(now, service, schedule, rules, slot_start)
                if slot.start == row["slot_start"]:
                    return booking_view(row)
                await _release_seat(conn, row)
                await _take_seat(conn, service, rules, slot, day)
                await conn.execute(
                    "UPDATE bookings SET slot_start = $2, slot_end = $3, business_date = $4, updated_at = $5"
                    " WHERE code = $1",
                    code, slot.start, slot.end, day, now,
                )  # fmt: skip
                moved = await fetch_booking(conn, code)
                await outbox.enqueue(
                    conn,
                    appointment_event(
                        EventType.APPOINTMENT_BOOKED,
                        moved,
                        now,
                        booked_at=now,
                        rescheduled_from=row["slot_start"],
                    ),
                )
                await notify.drop(conn, code)
                await notify.schedule_reminders(conn, now, moved)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "bookings_one_per_person":
                raise AlreadyBooked("you already hold a booking for this service on that day") from None
            raise
        return booking_view(moved)


async def check_in(pool: asyncpg.Pool, now: datetime, code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Turn a booking into a ticket: ``(ticket, booking)``.

    Within the window the ticket is queued at the slot start (the merge rule,
    :mod:`services.ticketing.domain.merge`) and holds its seat even when the
    day's walk-in numbers are used up; a late arrival gets an ordinary walk-in
    ticket queued now (``booking.late``), subject to the opening hours and quota.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await fetch_booking(conn, code, lock=True)
        _require_booked(row)
        service, schedule, _rules = await _service(conn, row["service_id"])
        late = _is_late(row["slot_start"], schedule, now)
        branch = {"id": service["branch_id"], "timezone": service["timezone"]}
        as_service = service if late else {**service, "daily_quota": MAX_NUMBER}
        ticket_id = uuid.uuid4()
        channel = "kiosk" if late else "online"
        await tickets._insert_ticket(conn, now, branch, as_service, schedule, ticket_id, channel, False, None)
        queued = merge.queued_at(row["slot_start"], now)
        await conn.execute("UPDATE tickets SET queued_at = $2 WHERE id = $1", ticket_id, queued)
        ticket_row = await tickets.fetch_ticket(conn, ticket_id)
        view = await tickets.ticket_view(conn, ticket_row)
        await outbox.enqueue(
            conn,
            ticket_event(
                EventType.TICKET_ISSUED,
                ticket_row,
                now,
                with_counter=False,
                position=view["position"],
                estimated_wait_seconds=view["estimated_wait_seconds"],
                target_wait_seconds=ticket_row["target_wait_seconds"],
            ),
        )
        await conn.execute(
            "UPDATE bookings SET status = 'checked_in', late = $2, ticket_id = $3, updated_at = $4"
            " WHERE code = $1",
            code, late, ticket_id, now,
        )  # fmt: skip
        checked = await fetch_booking(conn, code)
        extra = {"ticket_id": str(ticket_id), "number": view["number"], "late": late, "queued_at": queued}
        await outbox.enqueue(
            conn,
            appointment_event(EventType.APPOINTMENT_CHECKED_IN, checked, now, checked_in_at=now, **extra),
        )
        await notify.drop(conn, code, kinds=notify.REMINDER_KINDS)
        log.info("booking %s checked in as %s (late=%s)", code, view["number"], late)
        return view, booking_view(checked)


def _is_late(slot_start: datetime, schedule: Schedule, now: datetime) -> bool:
    """True for a late arrival (who must find issuing open); IssuingRefused before the window opens."""
    arrival = merge.arrival(slot_start, now)
    if arrival is merge.Arrival.TOO_EARLY:
        opens = merge.window(slot_start).opens
        raise IssuingRefused(
            f"Check-in dibuka pukul {opens.astimezone(schedule.timezone):%H:%M}"
            " (30 menit sebelum jadwal). Check-in opens 30 minutes before the slot.",
            reason="too_early",
            retry_at=opens,
        )
    late = arrival is merge.Arrival.LATE
    if late:
        check_issuing(schedule, now)
    return late


async def expire(pool: asyncpg.Pool, now: datetime, *, batch_size: int = 500) -> int:
    """Expire bookings whose check-in window has closed (no-shows); their events go out. Returns how many."""
    expired = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                BOOKING_SELECT + " WHERE k.status = 'booked' AND k.slot_start < $1"
                " ORDER BY k.slot_start LIMIT $2 FOR UPDATE OF k SKIP LOCKED",
                now - merge.LATE,
                batch_size,
            )
            if not rows:
                return expired
            codes = [r["code"] for r in rows]
            await conn.execute(
                "UPDATE bookings SET status = 'expired', updated_at = $2 WHERE code = ANY($1)", codes, now
            )
            for row in rows:
                await outbox.enqueue(
                    conn, appointment_event(EventType.APPOINTMENT_EXPIRED, {**row, "status": "expired"}, now)
                )
                await notify.drop(conn, row["code"])
            expired += len(rows)
