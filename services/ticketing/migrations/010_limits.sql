-- How many tickets of a service each (pseudonymous) client address took on a
-- business day: one address may take only a share of a service's daily quota.
CREATE TABLE issue_shares (
    service_id    text NOT NULL,
    business_date date NOT NULL,
    client_key    text NOT NULL,
    issued        integer NOT NULL,
    PRIMARY KEY (service_id, business_date, client_key)
);
