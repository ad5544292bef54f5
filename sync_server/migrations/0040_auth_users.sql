-- The embedded, development-only Supabase Auth service (sync_server/auth_service.py): sign-in users, sessions and
-- rotating refresh tokens, in the `auth` schema with Supabase's column names where practical, so data made here
-- reads like a real project's. Only the server's login role touches these tables; no API role may read them.
CREATE TABLE auth.users (
  id                 uuid PRIMARY KEY,
  aud                text NOT NULL DEFAULT 'authenticated',
  role               text NOT NULL DEFAULT 'authenticated',
  email              text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  encrypted_password text NOT NULL,            -- an Argon2id PHC string, never the password
  email_confirmed_at timestamptz,
  raw_app_meta_data  jsonb NOT NULL DEFAULT '{"provider": "email", "providers": ["email"]}',
  raw_user_meta_data jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  last_sign_in_at    timestamptz
);
CREATE UNIQUE INDEX users_email_key ON auth.users (email);

-- One row per signed-in session (Supabase's auth.sessions): logout deletes it, and its refresh tokens go with it.
CREATE TABLE auth.sessions (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id);

-- Rotating refresh tokens: each use revokes the token and issues its child (parent = the used token). Only a
-- SHA-256 of a token is kept, and its child is sealed under a key derived from it, so a copy of this table
-- signs nobody in.
CREATE TABLE auth.refresh_tokens (
  id          bigserial PRIMARY KEY,
  token_hash  text NOT NULL UNIQUE,
  user_id     uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  session_id  uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  parent_hash text,
  revoked     boolean NOT NULL DEFAULT false,
  child_sealed bytea,                          -- the child token, AES-GCM under a key derived from this token
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);
CREATE INDEX refresh_tokens_parent_idx ON auth.refresh_tokens (parent_hash);

-- The service works as service_role (BYPASSRLS); RLS with no policy keeps every other role out even if granted.
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.users FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens FORCE ROW LEVEL SECURITY;
REVOKE ALL ON auth.users, auth.sessions, auth.refresh_tokens FROM PUBLIC, anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.users, auth.sessions, auth.refresh_tokens TO service_role;
REVOKE ALL ON SEQUENCE auth.refresh_tokens_id_seq FROM PUBLIC, anon, authenticated;
GRANT USAGE, SELECT ON SEQUENCE auth.refresh_tokens_id_seq TO service_role;
