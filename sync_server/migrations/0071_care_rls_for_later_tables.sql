-- Care-scoped row-level security (0051) for the patient-data tables created beside it: medications (0030, from
-- scans) and consents and check-ins (0070, from the kiosk). 0051 rewrote the policies of the tables it knew; these
-- still had owner-or-admin policies, under which a clinic's nurse could not record a consent or a check-in for a
-- registered patient at the desk. Medications also get the tenant column (0050) and count as clinical rows a doctor
-- may write for the patients in their care.
CREATE OR REPLACE FUNCTION app.my_write_scope(tbl text) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  clinical boolean := tbl IN ('health_metrics', 'symptoms', 'predictions', 'appointments', 'medications');
  roles text[] := CASE WHEN clinical THEN '{nurse,doctor,admin}' ELSE '{nurse,admin}' END;
BEGIN
  RETURN QUERY SELECT app.clinic_patients(roles);
  IF clinical THEN
    RETURN QUERY SELECT app.appointment_patients();
  END IF;
END
$$;

ALTER TABLE medications ADD COLUMN clinic_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE medications ALTER COLUMN clinic_id SET DEFAULT app.session_tenant();
CREATE TRIGGER medications_tenant BEFORE INSERT ON medications FOR EACH ROW WHEN (NEW.clinic_id IS NULL)
  EXECUTE FUNCTION app.fill_tenant('user_id');
CREATE INDEX medications_tenant_owner ON medications (clinic_id, user_id, recorded_at DESC);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['medications', 'consents', 'check_ins'] LOOP
    EXECUTE format('DROP POLICY %I ON %I', t || '_select', t);
    EXECUTE format('DROP POLICY %I ON %I', t || '_insert', t);
    EXECUTE format('DROP POLICY %I ON %I', t || '_update', t);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO authenticated
                      USING (user_id = (SELECT auth.uid())
                             OR EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = %I.user_id
                                        AND r.status = ''active'' AND NOT r.deleted
                                        AND r.clinic_id IN (SELECT app.my_clinics(''{nurse,doctor,admin}'')))
                             OR user_id IN (SELECT app.appointment_patients())
                             OR user_id IN (SELECT app.glass_patients()))', t || '_select', t, t);
    EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO authenticated
                      WITH CHECK (user_id = (SELECT auth.uid()) OR user_id IN (SELECT app.my_write_scope(%L)))',
                   t || '_insert', t, t);
    EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE TO authenticated
                      USING (user_id = (SELECT auth.uid()) OR user_id IN (SELECT app.my_write_scope(%L)))
                      WITH CHECK (user_id = (SELECT auth.uid()) OR user_id IN (SELECT app.my_write_scope(%L)))',
                   t || '_update', t, t, t);
  END LOOP;
END
$$;
