-- Guests only by consent (SPEC §4): a user joins an account other than its home only by
-- accepting an account invitation (or when a platform admin adds it), and a guest is
-- never an owner, so that an account's owners are always homed in it.

-- An account's invitation of a user homed elsewhere. The token is shown once and only
-- its SHA-256 is kept; `user_id` is set when the invitation is accepted.
CREATE TABLE account_invitations (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    email TEXT NOT NULL,
    -- `email` case-folded, as users.email_key: what acceptance compares
    email_key TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    inviter_id TEXT REFERENCES users (id),
    user_id TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP
);
CREATE UNIQUE INDEX account_invitations_token_hash ON account_invitations (token_hash);
CREATE INDEX account_invitations_account_created ON account_invitations (account_id, created_at, id);
CREATE INDEX account_invitations_account_email ON account_invitations (account_id, email_key);

-- Guest owners made before this rule become admins — but for the user who created the
-- account itself (`POST /accounts`, its `account.created` event), which would otherwise
-- be left without an owner.
UPDATE account_memberships SET role = 'admin'
WHERE role = 'owner'
  AND account_id <> (SELECT u.account_id FROM users u WHERE u.id = account_memberships.user_id)
  AND NOT EXISTS (
    SELECT 1 FROM audit_events e
    WHERE e.account_id = account_memberships.account_id
      AND e.action = 'account.created'
      AND e.actor_id = account_memberships.user_id
  );
