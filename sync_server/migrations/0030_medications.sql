-- Medications read from prescription scans (edge/schema.py: Medication): an append-only observation, with the
-- same change sequence, RLS policies (0008), grants (0009) and same-patient correction check (0011) as the other
-- observation tables.
CREATE TABLE medications (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL,
  supersedes     uuid,
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  strength       double precision CHECK (strength > 0 AND strength <= 100000),
  unit           text CHECK (unit IN ('mg', 'mcg', 'g', 'ml', 'iu', 'unit', 'units')),
  frequency      text CHECK (frequency ~ '^[A-Z0-9]{1,12}$'),
  route          text CHECK (route IN ('oral', 'topical', 'inhaled', 'injection', 'ophthalmic', 'other')),
  source_scan_id uuid,
  recorded_at    timestamptz NOT NULL,
  hlc            text NOT NULL,
  col_clocks     jsonb NOT NULL DEFAULT '{}',
  deleted        boolean NOT NULL DEFAULT false,
  origin_device  uuid,
  change_seq     bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX medications_owner ON medications (user_id, recorded_at DESC);
CREATE INDEX medications_change_seq ON medications (change_seq);
CREATE TRIGGER medications_change_seq BEFORE UPDATE ON medications FOR EACH ROW EXECUTE FUNCTION bump_change_seq();

ALTER TABLE medications ENABLE ROW LEVEL SECURITY;
ALTER TABLE medications FORCE ROW LEVEL SECURITY;
CREATE POLICY medications_select ON medications FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()) OR user_id IN (SELECT app.my_patients()));
CREATE POLICY medications_insert ON medications FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()));
CREATE POLICY medications_update ON medications FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()))
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT app.is_admin()));

GRANT SELECT, INSERT ON medications TO authenticated;
GRANT UPDATE (deleted, hlc, col_clocks, origin_device) ON medications TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON medications TO service_role;

CREATE TRIGGER medications_supersedes_owner BEFORE INSERT OR UPDATE OF supersedes, user_id ON medications
  FOR EACH ROW WHEN (NEW.supersedes IS NOT NULL) EXECUTE FUNCTION app.check_supersedes_owner();
