-- Accounts of the second wave: four roles, a branch per staff user, disabling,
-- sessions one can list and revoke, and the state of the log-in back-off.

ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'branch_admin', 'supervisor', 'operator'));
ALTER TABLE users ADD COLUMN branch_id text REFERENCES branches (id);
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
-- Every role but the deployment's admin belongs to one branch.
ALTER TABLE users ADD CONSTRAINT users_branch_for_role
    CHECK (role = 'admin' OR role = 'operator' OR branch_id IS NOT NULL) NOT VALID;

ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE sessions ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz;
ALTER TABLE sessions ADD COLUMN client text;
CREATE UNIQUE INDEX sessions_id ON sessions (id);
CREATE INDEX sessions_username ON sessions (username);

-- Failed log-ins in a row, per user name and per client address (scope).
CREATE TABLE login_failures (
    scope        text NOT NULL CHECK (scope IN ('user', 'address')),
    key          text NOT NULL,
    failures     integer NOT NULL,
    last_failure timestamptz NOT NULL,
    locked_until timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

-- The audit trail: every administrative, supervisory and operator action.
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    target    text NOT NULL,
    branch_id text,
    before    jsonb,
    after     jsonb
);
CREATE INDEX audit_log_branch_at ON audit_log (branch_id, at DESC);
CREATE INDEX audit_log_at ON audit_log (at);
