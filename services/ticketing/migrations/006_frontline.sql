-- The desk survey code: a survey answered from the QR sign on a counter's desk.
-- It rates the ticket that counter completed most recently (within a window),
-- else the desk itself (ticket_id NULL, counter_id set). Still one answer per
-- ticket. The PermenPAN-RB 14/2017 respondent profile and the suggestion (saran)
-- are optional on every survey.
ALTER TABLE surveys DROP CONSTRAINT surveys_pkey;
ALTER TABLE surveys ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY;
ALTER TABLE surveys ALTER COLUMN ticket_id DROP NOT NULL;
CREATE UNIQUE INDEX surveys_one_per_ticket ON surveys (ticket_id) WHERE ticket_id IS NOT NULL;
ALTER TABLE surveys
    ADD COLUMN counter_id text REFERENCES counters (id),
    ADD COLUMN sex        text,
    ADD COLUMN age_group  text,
    ADD COLUMN education  text,
    ADD COLUMN occupation text,
    ADD COLUMN saran      text CHECK (char_length(saran) <= 1000),
    ADD CONSTRAINT surveys_rate_something CHECK (ticket_id IS NOT NULL OR counter_id IS NOT NULL);
CREATE INDEX surveys_desk ON surveys (counter_id, submitted_at) WHERE ticket_id IS NULL;
CREATE INDEX tickets_completed_at_counter ON tickets (counter_id, completed_at DESC) WHERE status = 'completed';
