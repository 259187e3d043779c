-- Appointments (antrian online): bookable slots with quotas, bookings, check-in,
-- and the notifications (reminders, "3 more before you") sent through the
-- notification port with retries.

-- A service's booking rules (null: bookable with the defaults of
-- services/ticketing/domain/slots.py): {"enabled", "slot_minutes",
-- "slot_capacity", "online_share", "days_ahead", "require_nik"}.
ALTER TABLE services ADD COLUMN booking jsonb;

-- Seats taken per slot; the row lock of the conditional UPDATE serialises
-- concurrent bookings, and the CHECK makes an overfilled slot impossible.
CREATE TABLE booking_slots (
    service_id text NOT NULL REFERENCES services (id),
    slot_start timestamptz NOT NULL,
    capacity   int NOT NULL CHECK (capacity >= 0),
    taken      int NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, slot_start),
    CHECK (taken BETWEEN 0 AND capacity)
);

-- The online share of a service's daily quota, per branch-local business day.
CREATE TABLE booking_days (
    service_id    text NOT NULL REFERENCES services (id),
    business_date date NOT NULL,
    quota         int NOT NULL CHECK (quota >= 0),
    taken         int NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, business_date),
    CHECK (taken BETWEEN 0 AND quota)
);

CREATE TABLE bookings (
    code          text PRIMARY KEY,
    branch_id     text NOT NULL REFERENCES branches (id),
    service_id    text NOT NULL REFERENCES services (id),
    business_date date NOT NULL,
    slot_start    timestamptz NOT NULL,
    slot_end      timestamptz NOT NULL,
    name          text,
    phone         text,
    person_key    text,                  -- HMAC-SHA256 of the NIK (or of the phone): never the NIK
    status        text NOT NULL CHECK (status IN ('booked', 'checked_in', 'cancelled', 'expired')),
    late          boolean NOT NULL DEFAULT false,
    ticket_id     uuid REFERENCES tickets (id),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
-- One active booking per person per service per day.
CREATE UNIQUE INDEX bookings_one_per_person ON bookings (service_id, business_date, person_key)
    WHERE status IN ('booked', 'checked_in') AND person_key IS NOT NULL;
CREATE INDEX bookings_open ON bookings (slot_start) WHERE status = 'booked';

-- Outgoing notifications: one row per (kind, ref), so each is sent once; the
-- dispatcher retries a failed delivery with back-off until max attempts.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL,       -- reminder_day, reminder_hour, near
    ref             text NOT NULL,       -- the booking code
    due_at          timestamptz NOT NULL,
    payload         jsonb NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    sent_at         timestamptz,
    cancelled       boolean NOT NULL DEFAULT false,
    last_error      text,
    UNIQUE (kind, ref)
);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE sent_at IS NULL AND NOT cancelled;
