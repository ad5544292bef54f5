-- The clinic's synced records (issue 10; protocol/schema.py: Consent, CheckIn, Registration). Written by the kiosk
-- engineer so sync takes them today; RLS here is the observation pattern (owner = user_id = auth.uid(), admins all,
-- doctors their patients), which the tenancy migrations rewrite for care (clinic staff through registrations).

CREATE TABLE consents (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  supersedes    uuid,
  kind          text NOT NULL CHECK (kind IN ('audio', 'llm', 'image_ai', 'share')),
  clinic_id     uuid,
  granted       boolean NOT NULL,
  text_version  text NOT NULL CHECK (text_version ~ '^[a-z0-9_.-]+$' AND length(text_version) <= 40),
  recorded_by   uuid NOT NULL,
  recorded_at   timestamptz NOT NULL,
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq'),
  CHECK ((kind = 'share') = (clinic_id IS NOT NULL))
);
CREATE INDEX consents_owner ON consents (user_id, kind, recorded_at DESC);
CREATE INDEX consents_change_seq ON consents (change_seq);

CREATE TABLE check_ins (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  supersedes    uuid,
  clinic_id     uuid NOT NULL,
  checked_in_at timestamptz NOT NULL,
  recorded_by   uuid NOT NULL,
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX check_ins_owner ON check_ins (user_id, clinic_id, checked_in_at DESC);
CREATE INDEX check_ins_clinic ON check_ins (clinic_id, checked_in_at DESC);
CREATE INDEX check_ins_change_seq ON check_ins (change_seq);

-- registrations: the tenancy contract's table (clinic_id, patient_id, mrn, registered_at, withdrawn_at) plus the
-- synced row's columns (id derived from clinic and patient, user_id = patient_id, status). Made to work whichever
-- migration runs first: the tenancy one (0050-0069) may already have created the table.
CREATE TABLE IF NOT EXISTS registrations (
  clinic_id     uuid NOT NULL,
  patient_id    uuid NOT NULL,
  mrn           text CHECK (length(mrn) <= 64),
  registered_at timestamptz NOT NULL DEFAULT now(),
  withdrawn_at  timestamptz,
  PRIMARY KEY (clinic_id, patient_id)
);
ALTER TABLE registrations
  ADD COLUMN IF NOT EXISTS id uuid,
  ADD COLUMN IF NOT EXISTS user_id uuid,
  ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
  ADD COLUMN IF NOT EXISTS hlc text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS col_clocks jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS origin_device uuid,
  ADD COLUMN IF NOT EXISTS change_seq bigint NOT NULL DEFAULT nextval('sync_change_seq');
CREATE UNIQUE INDEX IF NOT EXISTS registrations_id ON registrations (id);
CREATE INDEX IF NOT EXISTS registrations_owner ON registrations (user_id, clinic_id);
CREATE INDEX IF NOT EXISTS registrations_change_seq ON registrations (change_seq);

-- The two spellings of the patient stay one value, and withdrawn_at follows the status (the contract: withdrawn_at
-- set = access gone), whichever side (sync or the server's own tools) writes the row.
CREATE OR REPLACE FUNCTION app.registration_columns() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  NEW.user_id := coalesce(NEW.user_id, NEW.patient_id);
  NEW.patient_id := coalesce(NEW.patient_id, NEW.user_id);
  IF NEW.status = 'withdrawn' THEN
    NEW.withdrawn_at := coalesce(NEW.withdrawn_at, now());
  ELSE
    NEW.withdrawn_at := NULL;
  END IF;
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER registrations_columns BEFORE INSERT OR UPDATE ON registrations
  FOR EACH ROW EXECUTE FUNCTION app.registration_columns();
CREATE OR REPLACE TRIGGER registrations_change_seq BEFORE UPDATE ON registrations FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER consents_change_seq BEFORE UPDATE ON consents FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER check_ins_change_seq BEFORE UPDATE ON check_ins FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER consents_supersedes_owner BEFORE INSERT OR UPDATE OF supersedes, user_id ON consents FOR EACH ROW
  WHEN (NEW.supersedes IS NOT NULL) EXECUTE FUNCTION app.check_supersedes_owner();
CREATE TRIGGER check_ins_supersedes_owner BEFORE INSERT OR UPDATE OF supersedes, user_id ON check_ins FOR EACH ROW
  WHEN (NEW.supersedes IS NOT NULL) EXECUTE FUNCTION app.check_supersedes_owner();

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['consents', 'check_ins', 'registrations'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    -- A table the tenancy migrations made (registrations) keeps their policies.
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public' AND tablename = t);
    EXECUTE format(
      'CREATE POLICY %I ON %I FOR SELECT TO authenticated
         USING (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()) OR user_id IN (SELECT app.my_patients()))',
      t || '_select', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I FOR INSERT TO authenticated
         WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()))', t || '_insert', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I FOR UPDATE TO authenticated
         USING (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()))
         WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()))', t || '_update', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT ON consents, check_ins, registrations TO authenticated;
-- Consents and check-ins are append-only: only the tombstone and the sync metadata change.
GRANT UPDATE (deleted, hlc, col_clocks, origin_device) ON consents, check_ins TO authenticated;
GRANT UPDATE (mrn, status, withdrawn_at, patient_id, user_id, deleted, hlc, col_clocks, origin_device)
  ON registrations TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON consents, check_ins, registrations TO service_role;
