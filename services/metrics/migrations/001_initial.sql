-- The metrics service's facts and aggregates. Unqualified names: the pool's
-- search_path points at the service's schema (metrics, or a test schema).

-- Every event applied, so a redelivery or a replay changes nothing.
CREATE TABLE processed_events (
    event_id     uuid PRIMARY KEY,
    event_type   text NOT NULL,
    branch_id    text NOT NULL,
    sequence     bigint NOT NULL,
    event_time   timestamptz NOT NULL,
    processed_at timestamptz NOT NULL
);

-- Monotonic counters (qms_*_total), one row per label set.
CREATE TABLE counter_totals (
    metric text NOT NULL,
    labels jsonb NOT NULL,
    value  double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (metric, labels)
);

-- Histograms: non-cumulative bucket counts (last slot = +Inf), sum and count.
CREATE TABLE histogram_totals (
    metric  text NOT NULL,
    labels  jsonb NOT NULL,
    buckets bigint[] NOT NULL,
    sum     double precision NOT NULL DEFAULT 0,
    count   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (metric, labels)
);

CREATE TABLE tickets (
    ticket_id              text PRIMARY KEY,
    branch_id              text NOT NULL,
    agency_id              text NOT NULL,
    service_id             text NOT NULL,
    channel                text NOT NULL,
    business_date          date NOT NULL,
    issued_at              timestamptz NOT NULL,
    status                 text NOT NULL,
    estimated_wait_seconds integer,
    target_wait_seconds    integer,
    counter_id             text,
    waiting_since          timestamptz,
    first_called_at        timestamptz,
    called_at              timestamptz,
    serving_at             timestamptz,
    completed_at           timestamptz
);
CREATE INDEX tickets_branch_day ON tickets (branch_id, business_date);
CREATE INDEX tickets_waiting ON tickets (branch_id, agency_id, service_id) WHERE status = 'waiting';

-- Every (branch, agency, service) ever queued for, so waiting gauges show 0, not nothing.
CREATE TABLE queue_keys (
    branch_id  text NOT NULL,
    agency_id  text NOT NULL,
    service_id text NOT NULL,
    PRIMARY KEY (branch_id, agency_id, service_id)
);

CREATE TABLE counters (
    branch_id        text NOT NULL,
    counter_id       text NOT NULL,
    status           text NOT NULL,
    active_ticket_id text,
    idle_since       timestamptz,
    idle_seconds     double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, counter_id)
);

CREATE TABLE survey_responses (
    ticket_id    text PRIMARY KEY,
    branch_id    text NOT NULL,
    agency_id    text NOT NULL,
    service_id   text NOT NULL,
    counter_id   text,
    submitted_at timestamptz NOT NULL,
    local_date   date NOT NULL,
    scores       smallint[] NOT NULL
);
CREATE INDEX survey_branch_day ON survey_responses (branch_id, local_date);
