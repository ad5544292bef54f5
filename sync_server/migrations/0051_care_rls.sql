-- Row-level security rewritten for care (issue 10), replacing 0008/0015's policies on patient data. Access comes
-- from the membership tables only, never from the JWT's app_metadata (that only picks UI flows; the appointment
-- transition trigger of 0016 still reads it for *which move*, while these policies decide *which rows*):
--   * a patient reads and writes their own rows;
--   * staff (nurse, doctor, admin) of clinic C read the rows of patients with an active registration at C;
--     nurses and admins of C also write them (profile included);
--   * a doctor (a `doctors` row linked to the user, signed in as a doctor) also reads the patients with an appointment with them whose
--     last encounter is within app.settings care_window_days (default 90), and writes, for the patients in their
--     care, only clinical records: health_metrics, symptoms, predictions and appointments (never the profile,
--     therapy sessions, events or the family graph);
--   * break-glass: an unexpired break_glass grant lets its staff member read (not write) that one patient;
--   * admins of C manage C's staff, registrations, doctor directory entries and devices.
-- The helpers are SECURITY DEFINER functions owned by service_role returning sets, so each policy is one hashed
-- subplan per statement (`owner IN (SELECT app.my_scope())`), as in 0007.

CREATE OR REPLACE FUNCTION app.setting(name text, fallback jsonb) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT s.value FROM app.settings s WHERE s.key = name), fallback)
$$;

-- The helpers are PL/pgSQL (RETURN QUERY) rather than SQL functions: a SECURITY DEFINER SQL function with SET is
-- never inlined and is planned afresh on every call, while PL/pgSQL keeps its plans for the connection (measured:
-- app.my_scope over 2,000 registered patients, 15 ms as SQL functions, about 2 ms so).

-- The clinics where the caller is staff with one of `roles`.
CREATE OR REPLACE FUNCTION app.my_clinics(roles text[]) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT s.clinic_id FROM clinic_staff s WHERE s.user_id = auth.uid() AND s.role = ANY(roles);
END
$$;

-- Patients with an active registration at a clinic where the caller is staff with one of `roles`.
CREATE OR REPLACE FUNCTION app.clinic_patients(roles text[]) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT r.user_id FROM registrations r
    WHERE r.clinic_id IN (SELECT s.clinic_id FROM clinic_staff s WHERE s.user_id = auth.uid() AND s.role = ANY(roles))
      AND r.status = 'active' AND NOT r.deleted;
END
$$;

-- Patients with an appointment with the calling doctor whose last encounter is within the care window (a future
-- appointment counts as in care). Like 0007's helpers it also asks for the doctor claim: a claim only ever narrows
-- access (the same user signed in as a patient sees only their own rows), it never grants any.
CREATE OR REPLACE FUNCTION app.appointment_patients() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  since timestamptz;
BEGIN
  IF app.claim_role() <> 'doctor' THEN
    RETURN;
  END IF;
  since := now() - make_interval(days => (app.setting('care_window_days', '90'))::text::int);
  RETURN QUERY SELECT a.patient_id FROM appointments a JOIN doctors d ON d.id = a.doctor_id
    WHERE d.user_id = auth.uid() AND NOT a.deleted AND NOT d.deleted AND a.scheduled_at >= since;
END
$$;

-- Patients the caller opened through an unexpired break-glass grant.
CREATE OR REPLACE FUNCTION app.glass_patients() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT g.patient_id FROM break_glass g WHERE g.staff_id = auth.uid() AND g.expires_at > now();
END
$$;

-- Every patient (other than the caller) whose rows the caller may read. One query, UNION ALL (the hashed subplan
-- that consumes it deduplicates anyway), no nested set functions: each would copy the set once more.
CREATE OR REPLACE FUNCTION app.my_scope() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  me uuid := auth.uid();
BEGIN
  RETURN QUERY
    SELECT r.user_id FROM registrations r
     WHERE r.clinic_id IN (SELECT s.clinic_id FROM clinic_staff s WHERE s.user_id = me)
       AND r.status = 'active' AND NOT r.deleted
    UNION ALL SELECT g.patient_id FROM break_glass g WHERE g.staff_id = me AND g.expires_at > now();
  RETURN QUERY SELECT app.appointment_patients();
END
$$;

-- The patients (other than the caller) whose rows of table `tbl` the caller may write.
CREATE OR REPLACE FUNCTION app.my_write_scope(tbl text) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  clinical boolean := tbl IN ('health_metrics', 'symptoms', 'predictions', 'appointments');
  roles text[] := CASE WHEN clinical THEN '{nurse,doctor,admin}' ELSE '{nurse,admin}' END;
BEGIN
  RETURN QUERY SELECT app.clinic_patients(roles);
  IF clinical THEN
    RETURN QUERY SELECT app.appointment_patients();
  END IF;
END
$$;

-- The same scope as a membership test, for one-off checks outside policies (the break-glass endpoint).
CREATE OR REPLACE FUNCTION app.in_scope(patient uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT patient = auth.uid() OR patient IN (SELECT app.my_scope())
$$;

-- Whether the caller reads this patient only through break-glass (the audit row is then flagged).
CREATE OR REPLACE FUNCTION app.via_glass(patient uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT patient IS NOT NULL AND patient IS DISTINCT FROM auth.uid() AND patient IN (SELECT app.glass_patients())
     AND patient NOT IN (SELECT app.clinic_patients('{nurse,doctor,admin}') UNION SELECT app.appointment_patients())
$$;

GRANT SELECT ON clinics, clinic_staff, registrations, break_glass, app.settings TO service_role;
DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['app.setting(text, jsonb)', 'app.my_clinics(text[])', 'app.clinic_patients(text[])',
                           'app.appointment_patients()', 'app.glass_patients()', 'app.my_scope()',
                           'app.my_write_scope(text)', 'app.in_scope(uuid)', 'app.via_glass(uuid)', 'app.tenant_of(uuid)'] LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO service_role', f);
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO authenticated, service_role', f);
  END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION app.session_tenant(), app.fill_tenant(), app.registration_withdrawn_at()
  TO authenticated, service_role;

-- Patient data: the old policies go, the care policies come.
DROP POLICY appointments_doctor_select ON appointments;
DROP POLICY appointments_doctor_update ON appointments;
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('users', 'id'), ('health_metrics', 'user_id'), ('symptoms', 'user_id'),
      ('therapy_sessions', 'user_id'), ('predictions', 'user_id'), ('health_events', 'user_id'),
      ('family_graph', 'user_id'), ('appointments', 'patient_id')) AS v(tbl, owner)
  LOOP
    EXECUTE format('DROP POLICY %I ON %I', t.tbl || '_select', t.tbl);
    EXECUTE format('DROP POLICY %I ON %I', t.tbl || '_insert', t.tbl);
    EXECUTE format('DROP POLICY %I ON %I', t.tbl || '_update', t.tbl);
    IF t.tbl <> 'appointments' THEN
      -- The clinic path as a correlated EXISTS rather than `IN (SELECT app.my_scope())`: the planner then probes
      -- the registrations index per row for a few rows (one patient) instead of building the clinic's whole
      -- patient set, and still hashes it for a page of thousands (bench/bench_tenancy.py).
      EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO authenticated
                        USING (%I = (SELECT auth.uid())
                               OR EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = %I.%I
                                          AND r.status = ''active'' AND NOT r.deleted
                                          AND r.clinic_id IN (SELECT app.my_clinics(''{nurse,doctor,admin}'')))
                               OR %I IN (SELECT app.appointment_patients())
                               OR %I IN (SELECT app.glass_patients()))',
                     t.tbl || '_select', t.tbl, t.owner, t.tbl, t.owner, t.owner, t.owner);
    END IF;
    EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO authenticated
                      WITH CHECK (%I = (SELECT auth.uid()) OR %I IN (SELECT app.my_write_scope(%L)))',
                   t.tbl || '_insert', t.tbl, t.owner, t.owner, t.tbl);
    EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE TO authenticated
                      USING (%I = (SELECT auth.uid()) OR %I IN (SELECT app.my_write_scope(%L)))
                      WITH CHECK (%I = (SELECT auth.uid()) OR %I IN (SELECT app.my_write_scope(%L)))',
                   t.tbl || '_update', t.tbl, t.owner, t.owner, t.tbl, t.owner, t.owner, t.tbl);
  END LOOP;
END
$$;
-- Appointments: a doctor sees only those booked with them (0015: never a colleague's reason text); the clinic's
-- nurses and admins those of its patients; break-glass those of the opened patient.
CREATE POLICY appointments_select ON appointments FOR SELECT TO authenticated
  USING (patient_id = (SELECT auth.uid()) OR app.is_doctor_row(doctor_id)
         OR patient_id IN (SELECT app.clinic_patients('{nurse,admin}')) OR patient_id IN (SELECT app.glass_patients()));
CREATE POLICY appointments_doctor_update ON appointments FOR UPDATE TO authenticated
  USING (app.is_doctor_row(doctor_id)) WITH CHECK (app.is_doctor_row(doctor_id));

-- The doctor directory: read by everyone signed in, written by the admins of the entry's clinic.
DROP POLICY doctors_insert ON doctors;
DROP POLICY doctors_update ON doctors;
DROP POLICY doctors_delete ON doctors;
CREATE POLICY doctors_insert ON doctors FOR INSERT TO authenticated
  WITH CHECK (clinic_id IN (SELECT app.my_clinics('{admin}')));
CREATE POLICY doctors_update ON doctors FOR UPDATE TO authenticated
  USING (clinic_id IN (SELECT app.my_clinics('{admin}'))) WITH CHECK (clinic_id IN (SELECT app.my_clinics('{admin}')));
CREATE POLICY doctors_delete ON doctors FOR DELETE TO authenticated
  USING (clinic_id IN (SELECT app.my_clinics('{admin}')));

-- Audit log: appended by anyone about their own actions; read by a clinic's admins only, for the
-- clinic's patients and staff.
DROP POLICY audit_log_select ON audit_log;
CREATE POLICY audit_log_select ON audit_log FOR SELECT TO authenticated
  USING (subject_id IN (SELECT app.clinic_patients('{admin}'))
         OR actor IN (SELECT s.user_id FROM clinic_staff s WHERE s.clinic_id IN (SELECT app.my_clinics('{admin}'))));

-- Tenancy tables.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['clinics', 'clinic_staff', 'registrations', 'break_glass'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;
CREATE POLICY clinics_select ON clinics FOR SELECT TO authenticated USING (true);  -- names only: a directory
CREATE POLICY clinic_staff_select ON clinic_staff FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR clinic_id IN (SELECT app.my_clinics('{nurse,doctor,admin}')));
CREATE POLICY clinic_staff_insert ON clinic_staff FOR INSERT TO authenticated
  WITH CHECK (clinic_id IN (SELECT app.my_clinics('{admin}')));
CREATE POLICY clinic_staff_update ON clinic_staff FOR UPDATE TO authenticated
  USING (clinic_id IN (SELECT app.my_clinics('{admin}'))) WITH CHECK (clinic_id IN (SELECT app.my_clinics('{admin}')));
CREATE POLICY clinic_staff_delete ON clinic_staff FOR DELETE TO authenticated
  USING (clinic_id IN (SELECT app.my_clinics('{admin}')));
-- A registration is the patient's consent: the patient makes and withdraws it; the clinic's nurses and admins
-- record it at the desk (the kiosk); all the clinic's staff see the clinic's registrations.
CREATE POLICY registrations_select ON registrations FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR clinic_id IN (SELECT app.my_clinics('{nurse,doctor,admin}')));
CREATE POLICY registrations_insert ON registrations FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()) OR clinic_id IN (SELECT app.my_clinics('{nurse,admin}')));
CREATE POLICY registrations_update ON registrations FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR clinic_id IN (SELECT app.my_clinics('{nurse,admin}')))
  WITH CHECK (user_id = (SELECT auth.uid()) OR clinic_id IN (SELECT app.my_clinics('{nurse,admin}')));
CREATE POLICY break_glass_select ON break_glass FOR SELECT TO authenticated
  USING (staff_id = (SELECT auth.uid()) OR patient_id = (SELECT auth.uid())
         OR clinic_id IN (SELECT app.my_clinics('{admin}')));
CREATE POLICY break_glass_insert ON break_glass FOR INSERT TO authenticated
  WITH CHECK (staff_id = (SELECT auth.uid()) AND clinic_id IN (SELECT app.my_clinics('{nurse,doctor,admin}')));

-- Devices: a clinic device is enrolled by an admin or nurse of its clinic, seen by the clinic's staff (each signs
-- in on it), revoked by the clinic's admins.
DROP POLICY sync_devices_insert ON sync_devices;
DROP POLICY sync_devices_select ON sync_devices;
CREATE POLICY sync_devices_insert ON sync_devices FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid())
              AND (kind = 'personal' OR clinic_id IN (SELECT app.my_clinics('{nurse,admin}'))));
CREATE POLICY sync_devices_select ON sync_devices FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR clinic_id IN (SELECT app.my_clinics('{nurse,doctor,admin}')));
CREATE POLICY sync_devices_clinic_update ON sync_devices FOR UPDATE TO authenticated
  USING (clinic_id IN (SELECT app.my_clinics('{admin}'))) WITH CHECK (clinic_id IN (SELECT app.my_clinics('{admin}')));

GRANT SELECT ON clinics, clinic_staff, registrations, break_glass TO authenticated;
GRANT INSERT, UPDATE (role), DELETE ON clinic_staff TO authenticated;
GRANT INSERT ON registrations, break_glass TO authenticated;
GRANT UPDATE (mrn, status, deleted, hlc, col_clocks, origin_device) ON registrations TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON clinics, clinic_staff, registrations, break_glass TO service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.settings TO service_role;
