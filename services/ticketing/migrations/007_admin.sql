-- Running a hall without editing files: master data changed live, soft deletes
-- that keep history, the supervisor's issuing switch, staff cancellations.

-- A deleted agency, service or counter keeps its row (tickets and reports point
-- at it); it is no longer listed, issued for or called at.
ALTER TABLE agencies ADD COLUMN deleted_at timestamptz;
ALTER TABLE services ADD COLUMN deleted_at timestamptz;
ALTER TABLE counters ADD COLUMN deleted_at timestamptz;

-- The issuing switch: issuing for a service is stopped for one business day
-- (the branch-local date) with the supervisor's reason shown on the kiosk.
ALTER TABLE services ADD COLUMN issuing_stopped_on date;
ALTER TABLE services ADD COLUMN issuing_stop_reason text;

-- A prefix is unique among the live services of a branch only: a deleted
-- service's prefix may be given to a new one.
ALTER TABLE services DROP CONSTRAINT IF EXISTS services_branch_id_prefix_key;
CREATE UNIQUE INDEX services_live_prefix ON services (branch_id, prefix) WHERE deleted_at IS NULL;

-- A supervisor may cancel a waiting ticket, with a reason the audit keeps.
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_cancel_reason_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_cancel_reason_check
    CHECK (cancel_reason IN ('citizen', 'day_closed', 'staff'));
