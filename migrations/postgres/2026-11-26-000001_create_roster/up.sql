-- roster's whole schema. The SQLite twin lives in migrations/sqlite; the two must
-- give the same src/db/schema.rs. Portable types only: ids are TEXT (UUID strings), times
-- are TIMESTAMP in UTC (written by the application, truncated to microseconds), JSON is TEXT.
-- Uniqueness rules ignore soft-deleted rows (partial unique indexes), and every filter and
-- sort of the contract has an index whose predicate matches the query's `discarded_at IS NULL`.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    discarded_at TIMESTAMP
);
CREATE UNIQUE INDEX accounts_slug_live ON accounts (slug) WHERE discarded_at IS NULL;
CREATE INDEX accounts_created_at ON accounts (created_at, id);
CREATE INDEX accounts_name ON accounts (name, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    email TEXT,
    identifier TEXT,
    status TEXT NOT NULL,
    -- the status to go back to on `unblock` / `restore`
    previous_status TEXT,
    avatar TEXT,
    timezone TEXT NOT NULL,
    preferences TEXT NOT NULL,
    password_hash TEXT,
    platform_admin BOOLEAN NOT NULL DEFAULT FALSE,
    last_sign_in_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    discarded_at TIMESTAMP
);
CREATE UNIQUE INDEX users_email_live ON users (account_id, lower(email)) WHERE discarded_at IS NULL AND email IS NOT NULL;
CREATE UNIQUE INDEX users_identifier_live ON users (account_id, identifier) WHERE discarded_at IS NULL AND identifier IS NOT NULL;
CREATE INDEX users_created_at_live ON users (created_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_status_created_at_live ON users (status, created_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_updated_at_live ON users (updated_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_name_live ON users (name, id) WHERE discarded_at IS NULL;
CREATE INDEX users_email_sort_live ON users (email, id) WHERE discarded_at IS NULL;
CREATE INDEX users_last_sign_in_live ON users (last_sign_in_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_sign_in ON users (lower(email), account_id);
CREATE INDEX users_account ON users (account_id, created_at, id);

CREATE TABLE account_memberships (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX account_memberships_account_user ON account_memberships (account_id, user_id);
CREATE INDEX account_memberships_user ON account_memberships (user_id, account_id);
CREATE INDEX account_memberships_account_role ON account_memberships (account_id, role, created_at, id);
CREATE INDEX account_memberships_account_created ON account_memberships (account_id, created_at, id);

CREATE TABLE teams (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    discarded_at TIMESTAMP
);
CREATE UNIQUE INDEX teams_name_live ON teams (account_id, lower(name)) WHERE discarded_at IS NULL;
CREATE INDEX teams_created_at_live ON teams (account_id, created_at, id) WHERE discarded_at IS NULL;
CREATE INDEX teams_name_sort_live ON teams (account_id, name, id) WHERE discarded_at IS NULL;
CREATE INDEX teams_account ON teams (account_id, created_at, id);

CREATE TABLE team_memberships (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX team_memberships_team_user ON team_memberships (team_id, user_id);
CREATE INDEX team_memberships_user ON team_memberships (user_id, team_id);
CREATE INDEX team_memberships_team_created ON team_memberships (team_id, created_at, id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_live ON sessions (user_id, created_at, id) WHERE revoked_at IS NULL;

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    -- SHA-256 of the token: the token itself is shown once and never stored
    token_hash TEXT NOT NULL,
    invited_by_id TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);
CREATE INDEX invitations_user ON invitations (user_id, created_at);

CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    device_type TEXT NOT NULL,
    sub_type TEXT,
    token TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX devices_user_token ON devices (user_id, token);
CREATE INDEX devices_user_created ON devices (user_id, created_at, id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    actor_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    changes TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_account_occurred ON audit_events (account_id, occurred_at, id);
CREATE INDEX audit_events_account_action ON audit_events (account_id, action, occurred_at, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, occurred_at, id);
CREATE INDEX audit_events_target ON audit_events (target_id, occurred_at, id);

-- One row per failed sign-in, so that throttling holds across instances sharing a database.
CREATE TABLE sign_in_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL,
    email TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_attempts_key ON sign_in_attempts (account_id, email, attempted_at);
