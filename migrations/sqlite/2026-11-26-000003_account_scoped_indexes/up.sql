-- Users are listed per account. Almost all of an account's users are home users
-- (users.account_id); guests, added through account_memberships, are counted in
-- accounts.guests so that the common case can be answered from the users table alone,
-- from indexes that lead with account_id and follow with each sort key.
ALTER TABLE accounts ADD COLUMN guests INTEGER NOT NULL DEFAULT 0;

DROP INDEX users_created_at_live;
DROP INDEX users_status_created_at_live;
DROP INDEX users_updated_at_live;
DROP INDEX users_name_live;
DROP INDEX users_email_sort_live;
DROP INDEX users_last_sign_in_live;
DROP INDEX users_account;

CREATE INDEX users_account_id_live ON users (account_id, id) WHERE discarded_at IS NULL;
CREATE INDEX users_account_created_at_live ON users (account_id, created_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_account_status_created_at_live ON users (account_id, status, created_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_account_updated_at_live ON users (account_id, updated_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_account_name_live ON users (account_id, name, id) WHERE discarded_at IS NULL;
CREATE INDEX users_account_email_live ON users (account_id, email, id) WHERE discarded_at IS NULL;
CREATE INDEX users_account_last_sign_in_live ON users (account_id, last_sign_in_at, id) WHERE discarded_at IS NULL;
CREATE INDEX users_account_discarded ON users (account_id, discarded_at, id);

-- accounts.guests is kept by the database itself, whoever writes the memberships.
UPDATE accounts SET guests = (
    SELECT COUNT(*) FROM account_memberships m JOIN users u ON u.id = m.user_id
    WHERE m.account_id = accounts.id AND u.account_id <> m.account_id
);
CREATE TRIGGER account_memberships_guest_added AFTER INSERT ON account_memberships
WHEN (SELECT account_id FROM users WHERE id = NEW.user_id) <> NEW.account_id
BEGIN
    UPDATE accounts SET guests = guests + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER account_memberships_guest_removed AFTER DELETE ON account_memberships
WHEN (SELECT account_id FROM users WHERE id = OLD.user_id) <> OLD.account_id
BEGIN
    UPDATE accounts SET guests = guests - 1 WHERE id = OLD.account_id;
END;
