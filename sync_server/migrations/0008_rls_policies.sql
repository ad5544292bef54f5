-- Row-level security, enabled AND forced (so even the table owner obeys it) on every table of patient data.
-- A patient sees and writes only rows they own (owner column = auth.uid()); a doctor reads rows of patients
-- who have an appointment with them; an admin (app_metadata.role = 'admin') sees and writes all.
-- service_role has BYPASSRLS, exactly as on Supabase.
-- `(SELECT auth.uid())` rather than `auth.uid()`: Postgres then evaluates it once per statement (an InitPlan)
-- instead of once per row, Supabase's own advice for RLS performance; likewise the doctor's patient list is one
-- hashed subplan per statement (app.my_patients), not a lookup per row.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('users', 'id'), ('health_metrics', 'user_id'), ('symptoms', 'user_id'),
      ('therapy_sessions', 'user_id'), ('predictions', 'user_id'), ('health_events', 'user_id'),
      ('family_graph', 'user_id'), ('appointments', 'patient_id')) AS v(tbl, owner)
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.tbl);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.tbl);
    EXECUTE format(
      'CREATE POLICY %I ON %I FOR SELECT TO authenticated
         USING (%I = (SELECT auth.uid()) OR (SELECT app.is_admin()) OR %I IN (SELECT app.my_patients()))',
      t.tbl || '_select', t.tbl, t.owner, t.owner);
    EXECUTE format(
      'CREATE POLICY %I ON %I FOR INSERT TO authenticated
         WITH CHECK (%I = (SELECT auth.uid()) OR (SELECT app.is_admin()))',
      t.tbl || '_insert', t.tbl, t.owner);
    EXECUTE format(
      'CREATE POLICY %I ON %I FOR UPDATE TO authenticated
         USING (%I = (SELECT auth.uid()) OR (SELECT app.is_admin()))
         WITH CHECK (%I = (SELECT auth.uid()) OR (SELECT app.is_admin()))',
      t.tbl || '_update', t.tbl, t.owner, t.owner);
  END LOOP;
END
$$;

-- A doctor also sees and updates (confirms, completes) the appointments booked with them.
CREATE POLICY appointments_doctor_select ON appointments FOR SELECT TO authenticated
  USING (app.is_doctor_row(doctor_id));
CREATE POLICY appointments_doctor_update ON appointments FOR UPDATE TO authenticated
  USING (app.is_doctor_row(doctor_id)) WITH CHECK (app.is_doctor_row(doctor_id));

-- The doctor directory: readable by every signed-in user, written by admins (and service_role).
ALTER TABLE doctors ENABLE ROW LEVEL SECURITY;
ALTER TABLE doctors FORCE ROW LEVEL SECURITY;
CREATE POLICY doctors_select ON doctors FOR SELECT TO authenticated USING (true);
CREATE POLICY doctors_insert ON doctors FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY doctors_update ON doctors FOR UPDATE TO authenticated USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY doctors_delete ON doctors FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

-- Audit log: anyone signed in appends rows about themselves; only admins read.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_insert ON audit_log FOR INSERT TO authenticated WITH CHECK (actor = (SELECT auth.uid()));
CREATE POLICY audit_log_select ON audit_log FOR SELECT TO authenticated USING ((SELECT app.is_admin()));
