-- Issuing a ticket in one statement, so one round trip to the database
-- (services/ticketing/tickets/issue.py). Unqualified names resolve through the
-- caller's search_path (the service schema), as everywhere else.

-- A ticket's place in its queue counts the waiting tickets of its service and day. Without
-- this index the generic plan of that count used tickets_waiting_by_day on the date alone,
-- counting the waiting tickets of every branch of the deployment for every ticket issued.
CREATE INDEX tickets_waiting_today ON tickets (service_id, business_date) WHERE status = 'waiting';

-- services/ticketing/domain/estimate.py in SQL, for the estimate written with the
-- ticket and its event: the same operations in the same order, so the same doubles
-- (tests/integration/ticketing/test_issue_function.py holds the two side by side).
CREATE FUNCTION wait_estimate(ahead int, open_counters int, recent float8[], expected float8)
RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    total float8 := 0;
    n int := 0;
    sample float8;
    average float8 := expected;
    weight float8;
BEGIN
    IF ahead <= 0 THEN
        RETURN 0;
    END IF;
    FOREACH sample IN ARRAY coalesce(recent, '{}') LOOP
        IF sample >= 0 THEN
            total := total + sample;
            n := n + 1;
        END IF;
    END LOOP;
    IF n >= 3 THEN  -- estimate.MIN_SAMPLES
        weight := n::float8 / (n + 3)::float8;
        average := weight * (total / n::float8) + (1 - weight) * expected;
    END IF;
    RETURN ceil(ahead::float8 * greatest(average, 0) / greatest(open_counters, 1)::float8)::int;
END $$;

-- The version of a service's issuing configuration: its branch, service and agency
-- rows as they stand (any update gives a row a new xmin) in this schema. plpgsql, not sql:
-- a sql function's query is planned again at every call, plpgsql keeps its plan per session.
CREATE FUNCTION issuing_version(p_service text) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT current_schema() || ':' || b.xmin::text || ':' || s.xmin::text || ':' || a.xmin::text
              FROM services s JOIN branches b ON b.id = s.branch_id JOIN agencies a ON a.id = s.agency_id
             WHERE s.id = p_service);
END $$;

-- The day's next number of a service, the new ticket's place in its queue and its wait
-- estimate, and the ticket row. A number past p_limit (the quota) raises AQ001, which
-- rolls back the increment with everything else. Returns (sequence, ahead, estimate).
CREATE FUNCTION take_ticket(
    p_ticket uuid, p_branch text, p_service text, p_prefix text, p_limit int, p_now timestamptz,
    p_day date, p_priority boolean, p_group text, p_channel text, p_recent int,
    OUT sequence int, OUT ahead int, OUT estimate int
) LANGUAGE plpgsql AS $$
DECLARE
    v_number text;
    v_open int;
    v_recent float8[];
    v_expected float8;
BEGIN
    INSERT INTO daily_numbers AS d (service_id, business_date, last_number) VALUES (p_service, p_day, 1)
    ON CONFLICT (service_id, business_date) DO UPDATE SET last_number = d.last_number + 1
    RETURNING last_number INTO sequence;
    IF sequence > p_limit THEN
        RAISE EXCEPTION 'the daily quota of % is used up', p_service USING ERRCODE = 'AQ001';
    END IF;
    v_number := p_prefix || lpad(sequence::text, 3, '0');
    SELECT count(*) INTO ahead FROM tickets w  -- tickets_waiting_today
     WHERE w.service_id = p_service AND w.status = 'waiting' AND w.business_date = p_day
       AND ((w.priority AND NOT p_priority) OR (w.priority = p_priority AND (w.queued_at, w.number) < (p_now, v_number)));
    SELECT count(*) INTO v_open FROM counters c WHERE c.status = 'open' AND p_service = ANY (c.service_ids);
    v_recent := ARRAY(
        SELECT extract(epoch FROM d.completed_at - d.serving_at)::float8 FROM tickets d
         WHERE d.service_id = p_service AND d.status = 'completed' AND d.serving_at IS NOT NULL
         ORDER BY d.completed_at DESC LIMIT p_recent);
    SELECT expected_service_seconds INTO v_expected FROM services WHERE id = p_service;
    estimate := wait_estimate(ahead, v_open, v_recent, v_expected);
    INSERT INTO tickets (id, branch_id, service_id, issued_service_id, number, business_date, priority,
                         priority_group, channel, status, issued_at, queued_at, estimated_wait_seconds)
    VALUES (p_ticket, p_branch, p_service, p_service, v_number, p_day, p_priority,
            p_group, p_channel, 'waiting', p_now, p_now, estimate);
END $$;

-- A ticket issued with its idempotency key, the client's share of the quota, the ticket
-- (take_ticket) and its ticket.issued event in the outbox, atomically. The caller checked
-- the hours, the cut-off and the issuing switch against the configuration of version
-- p_version; when it changed since, nothing is written and the outcome is 'stale'. A key
-- already claimed: 'replay', nothing written. A client past its share (p_allowed) raises
-- AS001. p_event is the event as the model built it; the statement writes the number,
-- position and estimate only it knows. Returns (outcome, sequence, ahead, estimate).
CREATE FUNCTION issue_ticket(
    p_ticket uuid, p_branch text, p_service text, p_version text, p_prefix text, p_limit int,
    p_now timestamptz, p_day date, p_priority boolean, p_group text, p_channel text, p_recent int,
    p_key text, p_client text, p_allowed int, p_event jsonb,
    OUT outcome text, OUT sequence int, OUT ahead int, OUT estimate int
) LANGUAGE plpgsql AS $$
DECLARE
    v_taken int;
BEGIN
    IF issuing_version(p_service) IS DISTINCT FROM p_version THEN
        outcome := 'stale';
        RETURN;
    END IF;
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (branch_id, key, ticket_id, created_at)
        VALUES (p_branch, p_key, p_ticket, p_now) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            outcome := 'replay';
            RETURN;
        END IF;
    END IF;
    IF p_client IS NOT NULL THEN
        INSERT INTO issue_shares AS s (service_id, business_date, client_key, issued)
        VALUES (p_service, p_day, p_client, 1)
        ON CONFLICT (service_id, business_date, client_key) DO UPDATE SET issued = s.issued + 1
        RETURNING issued INTO v_taken;
        IF v_taken > p_allowed THEN
            RAISE EXCEPTION 'a client''s share of % is used up', p_service USING ERRCODE = 'AS001';
        END IF;
    END IF;
    SELECT t.sequence, t.ahead, t.estimate INTO sequence, ahead, estimate
      FROM take_ticket(p_ticket, p_branch, p_service, p_prefix, p_limit, p_now, p_day, p_priority,
                       p_group, p_channel, p_recent) AS t;
    INSERT INTO outbox (branch_id, event_id, event_type, event)
    VALUES (p_branch, (p_event ->> 'id')::uuid, p_event ->> 'type',
            jsonb_set(jsonb_set(jsonb_set(p_event,
                '{data,number}', to_jsonb(p_prefix || lpad(sequence::text, 3, '0'))),
                '{data,position}', to_jsonb(ahead + 1)),
                '{data,estimated_wait_seconds}', to_jsonb(estimate)));
    outcome := 'issued';
END $$;
