-- Tenancy (issue 10): clinics, their staff, patients' registrations (each one the patient's consent to share with
-- that clinic), break-glass grants, app settings, a `clinic_id` tenant key on every patient-data table, device
-- kinds and the doctor directory's clinic fields. RLS over these tables is 0051.
CREATE TABLE clinics (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clinic_staff (
  clinic_id uuid NOT NULL REFERENCES clinics (id),
  user_id   uuid NOT NULL,
  role      text NOT NULL CHECK (role IN ('nurse', 'doctor', 'admin')),
  added_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, user_id)
);
CREATE INDEX clinic_staff_user ON clinic_staff (user_id, clinic_id);

-- A synced last-writer-wins row (protocol.schema `registrations`, id = derived_id("registrations",
-- "<clinic_id>:<patient_id>")), so the same table serves the kiosk's sync and the server. `patient_id` is the
-- contract's name for the owner column `user_id`; withdrawn_at follows status (trigger below).
CREATE TABLE registrations (
  clinic_id     uuid NOT NULL REFERENCES clinics (id),
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  patient_id    uuid GENERATED ALWAYS AS (user_id) STORED,
  mrn           text CHECK (length(mrn) <= 64),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
  registered_at timestamptz NOT NULL DEFAULT now(),
  withdrawn_at  timestamptz,
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq'),
  UNIQUE (clinic_id, user_id)
);
CREATE INDEX registrations_patient ON registrations (user_id, clinic_id);
CREATE INDEX registrations_change_seq ON registrations (change_seq);
CREATE TRIGGER registrations_change_seq BEFORE UPDATE ON registrations FOR EACH ROW EXECUTE FUNCTION bump_change_seq();

CREATE OR REPLACE FUNCTION app.registration_withdrawn_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'withdrawn' AND NOT NEW.deleted THEN
    IF TG_OP = 'INSERT' OR OLD.status <> 'withdrawn' OR OLD.withdrawn_at IS NULL THEN
      NEW.withdrawn_at := now();
    END IF;
  ELSIF NEW.status = 'active' AND NOT NEW.deleted THEN
    NEW.withdrawn_at := NULL;
  ELSE
    NEW.withdrawn_at := coalesce(NEW.withdrawn_at, now());  -- a tombstoned registration shares nothing
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER registrations_withdrawn_at BEFORE INSERT OR UPDATE ON registrations
  FOR EACH ROW EXECUTE FUNCTION app.registration_withdrawn_at();

-- A staff member's time-limited access to one patient outside their scope, with the stated reason.
CREATE TABLE break_glass (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id  uuid REFERENCES clinics (id),
  staff_id   uuid NOT NULL,
  patient_id uuid NOT NULL,
  reason     text NOT NULL CHECK (length(reason) BETWEEN 10 AND 1000),
  opened_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  CHECK (expires_at > opened_at)
);
CREATE INDEX break_glass_staff ON break_glass (staff_id, expires_at);

-- Operator settings read by the RLS helpers (care window) and the break-glass endpoint.
CREATE TABLE app.settings (
  key   text PRIMARY KEY,
  value jsonb NOT NULL
);
INSERT INTO app.settings (key, value) VALUES ('care_window_days', '90'), ('break_glass_minutes', '60');

-- The tenant of a new row when the writer does not name one: the push sets `app.tenant` for the whole
-- transaction (the kiosk's clinic, or the patient's first active registration); otherwise a trigger fills it.
CREATE OR REPLACE FUNCTION app.session_tenant() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.tenant', true), '')::uuid
$$;

-- The patient's first active registration's clinic, else the nil tenant (personal-device rows).
CREATE OR REPLACE FUNCTION app.tenant_of(patient uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT r.clinic_id FROM registrations r
                   WHERE r.user_id = patient AND r.status = 'active' AND NOT r.deleted
                   ORDER BY r.registered_at, r.clinic_id LIMIT 1),
                  '00000000-0000-0000-0000-000000000000'::uuid)
$$;

CREATE OR REPLACE FUNCTION app.fill_tenant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.clinic_id := app.tenant_of((to_jsonb(NEW) ->> TG_ARGV[0])::uuid);
  RETURN NEW;
END
$$;

-- Every patient-data table: the tenant column (existing rows: the nil tenant, a constant default so the backfill
-- is instant), and owner indexes led by the tenant (Citus-style co-location later). The primary key stays `id`:
-- ids are global UUIDs the devices mint, and sync deduplicates by them.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('users', 'id', NULL), ('health_metrics', 'user_id', 'metric_type, recorded_at DESC'),
      ('symptoms', 'user_id', 'recorded_at DESC'), ('therapy_sessions', 'user_id', 'exercise, started_at DESC'),
      ('predictions', 'user_id', 'disease, inputs_hash'), ('health_events', 'user_id', 'event_type, occurred_at DESC'),
      ('family_graph', 'user_id', NULL), ('appointments', 'patient_id', 'scheduled_at')) AS v(tbl, owner, rest)
  LOOP
    EXECUTE format('ALTER TABLE %I ADD COLUMN clinic_id uuid NOT NULL '
                   'DEFAULT ''00000000-0000-0000-0000-000000000000''', t.tbl);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN clinic_id SET DEFAULT app.session_tenant()', t.tbl);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %I FOR EACH ROW WHEN (NEW.clinic_id IS NULL) '
                   'EXECUTE FUNCTION app.fill_tenant(%L)', t.tbl || '_tenant', t.tbl, t.owner);
    IF t.tbl NOT IN ('users') THEN
      EXECUTE format('DROP INDEX IF EXISTS %I', t.tbl || (CASE WHEN t.tbl = 'appointments' THEN '_patient'
                                                               ELSE '_owner' END));
    END IF;
    EXECUTE format('CREATE INDEX %I ON %I (clinic_id, %I%s)', t.tbl || '_tenant_owner', t.tbl, t.owner,
                   CASE WHEN t.rest IS NULL THEN '' ELSE ', ' || t.rest END);
  END LOOP;
END
$$;
-- Per-patient reads without a tenant (a patient's own rows, a pull) keep an owner-led index on the big tables too:
-- Postgres 15 has no skip scan, so a tenant-led index alone would not serve `user_id = X`.
CREATE INDEX health_metrics_owner ON health_metrics (user_id, metric_type, recorded_at DESC);
CREATE INDEX appointments_patient ON appointments (patient_id, scheduled_at);

-- Two kinds of device: a patient's own phone ('personal', as every device enrolled before) or a clinic's kiosk.
ALTER TABLE sync_devices ADD COLUMN kind text NOT NULL DEFAULT 'personal' CHECK (kind IN ('personal', 'clinic'));
ALTER TABLE sync_devices ADD COLUMN clinic_id uuid REFERENCES clinics (id);
ALTER TABLE sync_devices ADD CONSTRAINT sync_devices_clinic_kind CHECK ((kind = 'clinic') = (clinic_id IS NOT NULL));
CREATE INDEX sync_devices_clinic ON sync_devices (clinic_id, id) WHERE clinic_id IS NOT NULL;

-- The doctor directory (issue 10 item 8), the base of the marketplace.
ALTER TABLE doctors ADD COLUMN clinic_id uuid REFERENCES clinics (id);
ALTER TABLE doctors ADD COLUMN languages text[] NOT NULL DEFAULT '{}'
  CHECK (cardinality(languages) <= 20);
ALTER TABLE doctors ADD COLUMN price_min double precision CHECK (price_min >= 0);
ALTER TABLE doctors ADD COLUMN price_max double precision CHECK (price_max >= 0);
ALTER TABLE doctors ADD COLUMN working_hours jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(working_hours) = 'object');
ALTER TABLE doctors ADD CONSTRAINT doctors_price_range CHECK (price_min IS NULL OR price_max IS NULL
                                                              OR price_min <= price_max);
CREATE INDEX doctors_clinic ON doctors (clinic_id, specialty);

-- Break-glass reads are flagged in the audit log.
ALTER TABLE audit_log ADD COLUMN break_glass boolean NOT NULL DEFAULT false;
CREATE INDEX audit_log_break_glass ON audit_log (at DESC) WHERE break_glass;
