-- The transactional outbox: every state change inserts its event here in the
-- same transaction; the relay publishes rows to Kafka in per-branch order and
-- marks them published only after Kafka acknowledged them.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    branch_id    text        NOT NULL,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    event        jsonb       NOT NULL,      -- the CloudEvent, without its sequence
    created_at   timestamptz NOT NULL DEFAULT now(),
    sequence     bigint,                    -- given by the relay, kept across retries
    published_at timestamptz,
    error        text,                      -- set when a row can never be published
    UNIQUE (branch_id, sequence)
);

CREATE INDEX outbox_pending ON outbox (branch_id, id) WHERE published_at IS NULL AND error IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- The last sequence handed out per branch: strictly increasing, never reused.
CREATE TABLE branch_sequences (
    branch_id     text PRIMARY KEY,
    last_sequence bigint NOT NULL DEFAULT 0
);

-- Wake the relay as soon as a transaction with new events commits.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('antrian_outbox', current_schema());
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
