-- Lookups that stay index lookups however large an account grows.

-- Emails keep the case the user typed; "the same email" ignores case, in full Unicode
-- (an internationalised domain may have non-ASCII capitals). SQLite's lower() folds
-- ASCII only and an index cannot use the app's casefold(), so sign-in, the uniqueness
-- check and filter[email] scanned every user of an account (540 ms at 1,000,000 users).
-- The folded form is stored beside the address, written by the application
-- (Email::normalized), and indexed.
ALTER TABLE users ADD COLUMN email_key TEXT;
UPDATE users SET email_key = casefold(email) WHERE email IS NOT NULL;

DROP INDEX users_email_live;
DROP INDEX users_sign_in;
CREATE UNIQUE INDEX users_email_key_live ON users (account_id, email_key) WHERE discarded_at IS NULL AND email_key IS NOT NULL;
-- Sign-in and the uniqueness check look up by email first, in every account the user
-- belongs to (guests have their home elsewhere).
CREATE INDEX users_email_key ON users (email_key, account_id);
CREATE INDEX users_identifier ON users (identifier) WHERE identifier IS NOT NULL;

-- filter[status] in id order (the default order), and its meta.total, from the index
-- alone: the partial index of live users sorted by creation could not answer the count
-- without reading every matching row (150 ms for 20,000 of 1,000,000 users).
CREATE INDEX users_account_discarded_status ON users (account_id, discarded_at, status, id);
-- sort=alive: the expression must read exactly as the sort's SQL in resources/user.rs.
CREATE INDEX users_account_alive_live ON users (account_id, (CASE WHEN status IN ('active', 'created', 'invited') THEN 0 ELSE 1 END), id) WHERE discarded_at IS NULL;

-- Lists without a sort are in id order; these let a page (offset or cursor) read its
-- rows in that order from the index instead of sorting every row of the account
-- (a cursor page of account_memberships took 480 ms at 1,000,000 members).
CREATE INDEX account_memberships_account_id ON account_memberships (account_id, id);
CREATE INDEX teams_account_id_live ON teams (account_id, id) WHERE discarded_at IS NULL;
CREATE INDEX audit_events_account_id ON audit_events (account_id, id);
