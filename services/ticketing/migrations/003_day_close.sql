-- Closing the business day. A ticket still waiting when its branch's business
-- day ends is cancelled by housekeeping with the reason 'day_closed'; a
-- citizen's own cancellation has the reason 'citizen'. Null for every ticket
-- that is not cancelled.
ALTER TABLE tickets ADD COLUMN cancel_reason text
    CHECK (cancel_reason IN ('citizen', 'day_closed'));

-- Until now only citizens could cancel.
UPDATE tickets SET cancel_reason = 'citizen' WHERE status = 'cancelled';

-- Housekeeping looks for a branch's waiting tickets of past days every pass:
-- a small partial index instead of a scan of every ticket ever issued.
CREATE INDEX tickets_waiting_by_day ON tickets (branch_id, business_date) WHERE status = 'waiting';

-- Housekeeping purges idempotency keys older than two days.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
