-- Sync engine: enrolled devices (public keys only), the ledger of applied change ids (idempotent pushes), and
-- the server-side outbox of documents for MongoDB.
CREATE TABLE sync_devices (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL,
  signing_key    bytea NOT NULL CHECK (length(signing_key) = 32),
  agreement_key  bytea NOT NULL CHECK (length(agreement_key) = 32),
  name           text CHECK (length(name) <= 200),
  format_version integer NOT NULL DEFAULT 2,
  enrolled_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at     timestamptz
);
CREATE INDEX sync_devices_user ON sync_devices (user_id);

-- One row per accepted change: a replayed changeset (or a retried push after a cut) answers "duplicate".
CREATE TABLE sync_applied (
  change_id    uuid PRIMARY KEY,
  changeset_id uuid NOT NULL,
  user_id      uuid NOT NULL,
  device_id    uuid NOT NULL,
  tbl          text NOT NULL,
  row_id       uuid NOT NULL,
  applied_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_applied_changeset ON sync_applied (changeset_id);

-- Documents waiting for the MongoDB sink; drained in id order, deleted only after MongoDB acknowledged them.
CREATE TABLE sync_doc_outbox (
  id         bigserial PRIMARY KEY,
  user_id    uuid NOT NULL,
  collection text NOT NULL,
  doc_id     uuid NOT NULL,
  hlc        text NOT NULL,
  doc        jsonb NOT NULL
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['sync_devices', 'sync_applied', 'sync_doc_outbox'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO authenticated USING (user_id = auth.uid())',
                   t || '_select', t);
    EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO authenticated WITH CHECK (user_id = auth.uid())',
                   t || '_insert', t);
  END LOOP;
END
$$;
CREATE POLICY sync_devices_update ON sync_devices FOR UPDATE TO authenticated
  USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());

GRANT SELECT, INSERT ON sync_devices, sync_applied, sync_doc_outbox TO authenticated;
GRANT UPDATE (revoked_at, name) ON sync_devices TO authenticated;
GRANT USAGE, SELECT ON SEQUENCE sync_doc_outbox_id_seq TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON sync_devices, sync_applied, sync_doc_outbox TO service_role;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE sync_doc_outbox_id_seq TO service_role;
