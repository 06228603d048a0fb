-- 034 The role belongs to the key, not to the user. Until now api_users.role held one role for all of a user's
-- keys, so issuing an admin key to a user made every key of theirs an admin key, and issuing a user key to an
-- admin (even the bootstrap admin) demoted all of theirs. Each key now carries its own role, and keys get a stable
-- id for listing and revoking (the hash stays the primary key; it is never shown).
-- Idempotent: every statement can run again, also after api_users.role is gone.

ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS role TEXT;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS id BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_id ON api_keys (id);

-- Existing keys keep the role they authenticate with today: their user's role. Which role each key was issued
-- with was never stored, so this is the only faithful choice; an admin reviews the listing (GET /api/v1/keys)
-- after upgrading and revokes what should not be admin.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'api_users' AND column_name = 'role') THEN
        UPDATE api_keys k SET role = u.role FROM api_users u WHERE u.user_id = k.user_id AND k.role IS NULL;
    END IF;
END
$$;

ALTER TABLE api_keys ALTER COLUMN role SET NOT NULL;
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('user', 'admin'));

-- One home for the role: the user row only says that the user exists.
ALTER TABLE api_users DROP COLUMN IF EXISTS role;
