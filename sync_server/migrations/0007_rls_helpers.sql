-- Helper predicates used by the RLS policies. They are SECURITY DEFINER functions owned by service_role
-- (BYPASSRLS) so a policy on `appointments` can look at `appointments` without recursing into its own policy.

-- The application role from the JWT: Supabase keeps it in app_metadata, which only the server can set.
CREATE OR REPLACE FUNCTION app.claim_role() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(auth.jwt() -> 'app_metadata' ->> 'role', 'patient')
$$;

CREATE OR REPLACE FUNCTION app.is_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT app.claim_role() = 'admin'
$$;

-- True when the caller is a doctor whose doctors row is the given doctor id.
CREATE OR REPLACE FUNCTION app.is_doctor_row(doctor uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT app.claim_role() = 'doctor' AND EXISTS (
    SELECT 1 FROM doctors d WHERE d.id = doctor AND d.user_id = auth.uid() AND NOT d.deleted
  )
$$;

-- True when the caller is a doctor with an appointment (any status) with this patient.
CREATE OR REPLACE FUNCTION app.is_doctor_of(patient uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT app.claim_role() = 'doctor' AND EXISTS (
    SELECT 1 FROM appointments a JOIN doctors d ON d.id = a.doctor_id
    WHERE a.patient_id = patient AND d.user_id = auth.uid() AND NOT a.deleted AND NOT d.deleted
  )
$$;

-- The patients of the calling doctor (empty for anyone else). Policies use it as `owner IN (SELECT …)`, which
-- Postgres runs once per statement as a hashed subplan instead of one lookup per row.
CREATE OR REPLACE FUNCTION app.my_patients() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT a.patient_id FROM appointments a JOIN doctors d ON d.id = a.doctor_id
  WHERE app.claim_role() = 'doctor' AND d.user_id = auth.uid() AND NOT a.deleted AND NOT d.deleted
$$;

GRANT CREATE ON SCHEMA app TO service_role;
GRANT SELECT ON doctors, appointments TO service_role;
ALTER FUNCTION app.is_doctor_row(uuid) OWNER TO service_role;
ALTER FUNCTION app.is_doctor_of(uuid) OWNER TO service_role;
ALTER FUNCTION app.my_patients() OWNER TO service_role;
REVOKE ALL ON FUNCTION app.is_doctor_row(uuid), app.is_doctor_of(uuid), app.my_patients() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.is_doctor_row(uuid), app.is_doctor_of(uuid), app.my_patients()
  TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION app.claim_role(), app.is_admin() TO authenticated, service_role;
