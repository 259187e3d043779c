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

-- Live pages: every event, once its transaction commits, is announced to the
-- ticketing processes that LISTEN (services/ticketing/live.py), which push a
-- public hint (type, number, counter) to the pages over server-sent events.
CREATE FUNCTION outbox_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('antrian_live', json_build_object(
        'schema', current_schema(),
        'branch_id', NEW.branch_id,
        'type', NEW.event_type,
        'number', NEW.event -> 'data' ->> 'number',
        'counter_id', NEW.event -> 'data' ->> 'counter_id',
        'service_id', NEW.event -> 'data' ->> 'service_id'
    )::text);
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_live AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_live();
