"""The notification port: reminders and "3 more before you" to the citizen's phone.

Notifications live in the ``notifications`` table (one row per kind and
booking, so each is sent once) and a dispatcher loop delivers the due ones
through an adapter, retrying a failed delivery with exponential back-off
until ``TICKETING_NOTIFY_MAX_ATTEMPTS``. A row is locked while it is sent and
marked sent in the same transaction, so a restart of ticketing resends only
what was not acknowledged.

Kinds: ``reminder_day`` (24 h before the slot), ``reminder_hour`` (1 h
before), ``near`` (a checked-in online ticket has 3 or fewer tickets ahead).
The first attempt of a reminder also emits ``appointment.reminder_due``, and
the ``near`` notification ``ticket.near``, into the outbox.

Adapters: :class:`WebhookNotifier` POSTs the JSON payload to a configured URL
(a WhatsApp/SMS gateway) with ``X-Antrian-Signature: sha256=<hex HMAC-SHA256
of the body>``; :class:`LogNotifier` only logs (the demo).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
import asyncpg

from services.events import EventType, new_event
from services.events.data import TicketNear
from services.ticketing import outbox
from services.ticketing.eventdata import SOURCE, rfc3339
from services.ticketing.keys import Clock

log = logging.getLogger(__name__)

REMINDER_KINDS = ("reminder_day", "reminder_hour")
LEADS = {"reminder_day": timedelta(days=1), "reminder_hour": timedelta(hours=1)}
NEAR_AHEAD = 3
SIGNATURE_HEADER = "X-Antrian-Signature"
BATCH = 50


class DeliveryFailed(Exception):
    """An adapter could not deliver a notification (it will be retried)."""


class Notifier(Protocol):
    """Where notifications go."""

    async def send(self, payload: Mapping[str, Any]) -> None:
        """Deliver ``payload``; raise DeliveryFailed when it did not arrive."""


def sign(secret: str, body: bytes) -> str:
    """The signature header value of a webhook body: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    """POSTs each notification as signed JSON to a gateway; a non-2xx answer is a failure."""

    def __init__(self, session: aiohttp.ClientSession, url: str, secret: str) -> None:
        self._session, self._url, self._secret = session, url, secret

    async def send(self, payload: Mapping[str, Any]) -> None:
        """POST the payload; DeliveryFailed on a network error or a non-2xx status."""
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body)}
        try:
            async with self._session.post(
                self._url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryFailed(f"gateway answered {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"gateway unreachable: {exc}") from exc


class LogNotifier:
    """Logs each notification (the demo has no gateway)."""

    async def send(self, payload: Mapping[str, Any]) -> None:
        """Log the message."""
        log.info(
            "notification %s for %s: %s", payload.get("kind"), payload.get("code"), payload.get("message")
        )


def _message(kind: str, row: Mapping[str, Any], tz: str) -> str:
    from zoneinfo import ZoneInfo

    start = row["slot_start"].astimezone(ZoneInfo(tz))
    when = f"{start:%d-%m-%Y %H:%M}"
    if kind == "reminder_day":
        return f"Pengingat: besok {when} jadwal {row['service_name']} Anda (kode {row['code']})."
    return f"Pengingat: 1 jam lagi ({when}) jadwal {row['service_name']} Anda (kode {row['code']})."


async def schedule_reminders(conn: asyncpg.Connection, now: datetime, booking: Mapping[str, Any]) -> None:
    """Plan the day-before and hour-before reminders of a booking with a phone (those still ahead)."""
    if not booking["phone"]:
        return
    for kind in REMINDER_KINDS:
        due = booking["slot_start"] - LEADS[kind]
        if due <= now:
            continue
        payload = {
            "kind": kind,
            "code": booking["code"],
            "phone": booking["phone"],
            "name": booking["name"],
            "service_id": booking["service_id"],
            "slot_start": rfc3339(booking["slot_start"]),
            "message": _message(kind, booking, booking["timezone"]),
        }
        await conn.execute(
            "INSERT INTO notifications (kind, ref, due_at, payload, next_attempt_at)"
            " VALUES ($1, $2, $3, $4::jsonb, $3)"
            " ON CONFLICT (kind, ref) DO UPDATE SET due_at = $3, payload = $4::jsonb, next_attempt_at = $3,"
            " attempts = 0, sent_at = NULL, cancelled = false, last_error = NULL",
            kind,
            booking["code"],
            due,
            json.dumps(payload, ensure_ascii=False),
        )


async def drop(conn: asyncpg.Connection, code: str, kinds: Sequence[str] | None = None) -> None:
    """Cancel the unsent notifications of a booking (of ``kinds``, or all)."""
    await conn.execute(
        "UPDATE notifications SET cancelled = true WHERE ref = $1 AND sent_at IS NULL"
        " AND ($2::text[] IS NULL OR kind = ANY($2))",
        code,
        list(kinds) if kinds is not None else None,
    )


_NEAR = """
SELECT k.code, k.phone, k.name, t.id, t.number, t.service_id, t.priority, t.queued_at, t.business_date,
       t.branch_id, s.agency_id, b.timezone
  FROM bookings k JOIN tickets t ON t.id = k.ticket_id JOIN services s ON s.id = t.service_id
  JOIN branches b ON b.id = t.branch_id
 WHERE k.status = 'checked_in' AND k.phone IS NOT NULL AND t.status = 'waiting'
   AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.kind = 'near' AND n.ref = k.code)
"""


async def plan_near(conn: asyncpg.Connection, now: datetime) -> int:
    """Add a ``near`` notification (and ``ticket.near``) for each checked-in ticket with 3 or fewer ahead."""
    from services.ticketing.tickets import position_of

    planned = 0
    for row in await conn.fetch(_NEAR):
        position, _ = await position_of(
            conn,
            service_id=row["service_id"],
            priority=row["priority"],
            queued_at=row["queued_at"],
            number=row["number"],
            day=row["business_date"],
        )
        ahead = position - 1
        if ahead > NEAR_AHEAD:
            continue
        planned += await _plan_near_one(conn, now, row, ahead)
    return planned


async def _plan_near_one(conn: asyncpg.Connection, now: datetime, row: asyncpg.Record, ahead: int) -> int:
    """Plan the ``near`` notice of one booking's ticket and its event; 0 when it was planned already."""
    payload = {
        "kind": "near",
        "code": row["code"],
        "phone": row["phone"],
        "name": row["name"],
        "ticket_id": str(row["id"]),
        "number": row["number"],
        "ahead": ahead,
        "message": f"Nomor {row['number']}: {ahead} lagi sebelum Anda. Mohon menuju ruang tunggu.",
    }
    async with conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO notifications (kind, ref, due_at, payload, next_attempt_at)"
            " VALUES ('near', $1, $2, $3::jsonb, $2) ON CONFLICT DO NOTHING RETURNING id",
            row["code"],
            now,
            json.dumps(payload, ensure_ascii=False),
        )
        if inserted is None:
            return 0
        data = TicketNear(
            branch_id=row["branch_id"],
            timezone=row["timezone"],
            business_date=row["business_date"],
            ticket_id=str(row["id"]),
            number=row["number"],
            service_id=row["service_id"],
            agency_id=row["agency_id"],
            booking_code=row["code"],
            ahead=ahead,
        )
        await outbox.enqueue(conn, new_event(data, source=SOURCE, subject=str(row["id"]), time=now))
    return 1


def retry_delay(attempts: int) -> timedelta:
    """Back-off after ``attempts`` failed deliveries: 2, 4, 8 ... seconds, at most 10 minutes."""
    return timedelta(seconds=min(600, 2 ** max(1, attempts)))


async def _reminder_event(conn: asyncpg.Connection, now: datetime, code: str, kind: str) -> None:
    from services.ticketing.bookings import appointment_event, fetch_booking

    row = await fetch_booking(conn, code)
    label = "day_before" if kind == "reminder_day" else "hour_before"
    await outbox.enqueue(conn, appointment_event(EventType.APPOINTMENT_REMINDER_DUE, row, now, kind=label))


async def deliver_due(
    pool: asyncpg.Pool, now: datetime, notifier: Notifier, *, max_attempts: int, batch: int = BATCH
) -> int:
    """Send the due notifications once each; failures are retried later. Returns how many were sent."""
    sent = 0
    async with pool.acquire() as conn:
        ids = await conn.fetch(
            "SELECT id FROM notifications WHERE sent_at IS NULL AND NOT cancelled AND next_attempt_at <= $1"
            " AND attempts < $2 ORDER BY next_attempt_at LIMIT $3",
            now,
            max_attempts,
            batch,
        )
        for (note_id,) in ids:
            async with conn.transaction():
                row = await conn.fetchrow(
                    "SELECT * FROM notifications WHERE id = $1 AND sent_at IS NULL AND NOT cancelled"
                    " FOR UPDATE SKIP LOCKED",
                    note_id,
                )
                if row is None:
                    continue
                if row["attempts"] == 0 and row["kind"] in REMINDER_KINDS:
                    await _reminder_event(conn, now, row["ref"], row["kind"])
                payload = {**json.loads(row["payload"]), "id": row["id"]}
                try:
                    await notifier.send(payload)
                except DeliveryFailed as exc:
                    attempts = row["attempts"] + 1
                    log.warning(
                        "notification %s (%s) failed, attempt %s: %s", row["id"], row["kind"], attempts, exc
                    )
                    await conn.execute(
                        "UPDATE notifications SET attempts = $2, next_attempt_at = $3, last_error = $4"
                        " WHERE id = $1",
                        note_id, attempts, now + retry_delay(attempts), str(exc)[:500],
                    )  # fmt: skip
                    continue
                await conn.execute(
                    "UPDATE notifications SET attempts = attempts + 1, sent_at = $2 WHERE id = $1",
                    note_id,
                    now,
                )
                sent += 1
    return sent


class Dispatcher:
    """The loop that plans ``near`` notifications and delivers due ones every ``interval`` seconds."""

    def __init__(
        self, pool: asyncpg.Pool, clock: Clock, notifier: Notifier, *, interval: float, max_attempts: int
    ) -> None:
        self._pool, self._clock, self._notifier = pool, clock, notifier
        self._interval, self._max_attempts = interval, max_attempts
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """One pass: plan, then deliver."""
        now = self._clock()
        async with self._pool.acquire() as conn:
            await plan_near(conn, now)
        return await deliver_due(self._pool, now, self._notifier, max_attempts=self._max_attempts)

    def start(self) -> None:
        """Start the loop."""
        self._task = asyncio.create_task(self._run(), name="notify-dispatcher")

    async def stop(self) -> None:
        """Finish the pass in flight and stop."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the loop's outermost guard: log and go on
                log.exception("notification pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)
