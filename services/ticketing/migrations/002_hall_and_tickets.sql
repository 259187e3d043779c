-- The hall model, tickets, staff and sessions. Unqualified names: the pool's
-- search_path puts them in the service schema (TICKETING_DB_SCHEMA).

CREATE TABLE branches (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    timezone      text NOT NULL,
    schedule      jsonb NOT NULL,          -- hours, breaks, holidays, issuing cut-off
    max_priority_streak  int NOT NULL DEFAULT 3,
    no_show_min_recalls  int NOT NULL DEFAULT 2,
    no_show_min_seconds  int NOT NULL DEFAULT 120
);

CREATE TABLE agencies (
    id        text PRIMARY KEY,
    branch_id text NOT NULL REFERENCES branches (id),
    name      text NOT NULL,
    position  int NOT NULL DEFAULT 0
);

CREATE TABLE services (
    id                       text PRIMARY KEY,
    branch_id                text NOT NULL REFERENCES branches (id),
    agency_id                text NOT NULL REFERENCES agencies (id),
    name                     text NOT NULL,
    prefix                   text NOT NULL,
    daily_quota              int NOT NULL CHECK (daily_quota BETWEEN 1 AND 999),
    expected_service_seconds int NOT NULL,
    target_wait_seconds      int NOT NULL,
    hours                    jsonb,        -- null: the branch's hours
    position                 int NOT NULL DEFAULT 0,
    UNIQUE (branch_id, prefix)
);

CREATE TABLE counters (
    id               text PRIMARY KEY,
    branch_id        text NOT NULL REFERENCES branches (id),
    name             text NOT NULL,
    zone             text NOT NULL,
    service_ids      text[] NOT NULL,      -- in order of preference
    status           text NOT NULL DEFAULT 'closed' CHECK (status IN ('open', 'paused', 'closed')),
    active_ticket_id uuid,
    priority_streak  int NOT NULL DEFAULT 0,
    position         int NOT NULL DEFAULT 0
);

-- One row per service per branch-local business day; the row lock serialises numbering.
CREATE TABLE daily_numbers (
    service_id    text NOT NULL REFERENCES services (id),
    business_date date NOT NULL,
    last_number   int NOT NULL,
    PRIMARY KEY (service_id, business_date)
);

CREATE TABLE tickets (
    id                     uuid PRIMARY KEY,
    branch_id              text NOT NULL REFERENCES branches (id),
    service_id             text NOT NULL REFERENCES services (id),
    issued_service_id      text NOT NULL REFERENCES services (id),
    number                 text NOT NULL,
    business_date          date NOT NULL,
    priority               boolean NOT NULL,
    priority_group         text,
    channel                text NOT NULL,
    status                 text NOT NULL,
    issued_at              timestamptz NOT NULL,
    queued_at              timestamptz NOT NULL,   -- the place in line; a transfer keeps it
    estimated_wait_seconds int NOT NULL,
    counter_id             text REFERENCES counters (id),
    operator               text,
    forced                 boolean NOT NULL DEFAULT false,
    recall_count           int NOT NULL DEFAULT 0,
    first_called_at        timestamptz,
    called_at              timestamptz,
    serving_at             timestamptz,
    completed_at           timestamptz,
    finished_at            timestamptz,
    transfers              int NOT NULL DEFAULT 0,
    UNIQUE (branch_id, business_date, number)
);
CREATE INDEX tickets_waiting ON tickets (service_id, priority, queued_at) WHERE status = 'waiting';
CREATE INDEX tickets_completed ON tickets (service_id, completed_at DESC) WHERE status = 'completed';

CREATE TABLE idempotency_keys (
    branch_id  text NOT NULL,
    key        text NOT NULL,
    ticket_id  uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (branch_id, key)
);

CREATE TABLE users (
    username      text PRIMARY KEY,
    role          text NOT NULL CHECK (role IN ('operator', 'admin')),
    password_hash text NOT NULL,
    counter_ids   text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    username   text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);

CREATE TABLE surveys (
    ticket_id    uuid PRIMARY KEY REFERENCES tickets (id),
    scores       int[] NOT NULL,
    submitted_at timestamptz NOT NULL
);
