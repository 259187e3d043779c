-- Park and return, no-show reactivation (issue 12), and the reason of a pause.
-- A parked ticket keeps queued_at (its place in line) and counter_id (the
-- counter that parked it); parked_at starts its return window.
ALTER TABLE tickets ADD COLUMN parked_at timestamptz;
ALTER TABLE tickets ADD COLUMN returns int NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN reactivations int NOT NULL DEFAULT 0;
-- housekeeping finds the parked tickets whose window is over
CREATE INDEX tickets_parked ON tickets (parked_at) WHERE status = 'parked';

ALTER TABLE counters ADD COLUMN pause_reason text
    CHECK (pause_reason IN ('istirahat', 'sholat', 'rapat', 'gangguan'));
