-- The console's clinic management (issue 13): who may create a clinic, and staff role claims that follow
-- clinic_staff whoever writes it (the operator's CLI or a clinic admin in the console).

-- A platform admin is a sign-in whose verified JWT carries app_metadata.platform_admin = true. app_metadata is
-- written only by the auth server's service role (here the operator: `healthsync server staff platform-admin`),
-- never by the user, so the claim can be trusted the way the role claim is.
CREATE OR REPLACE FUNCTION app.is_platform_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(auth.jwt() -> 'app_metadata' ->> 'platform_admin', '') = 'true'
$$;
GRANT EXECUTE ON FUNCTION app.is_platform_admin() TO authenticated, service_role;

-- The one way an API user creates a clinic: a platform admin names it and its first admin (default: themselves),
-- in one transaction with its audit row. The API roles have no INSERT on clinics at all, so this check cannot be
-- walked around; the operator (the login role) still creates clinics directly (`healthsync server clinic create`).
CREATE OR REPLACE FUNCTION app.create_clinic(clinic_name text, first_admin uuid, request_id text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  clinic uuid;
  admin_id uuid := coalesce(first_admin, auth.uid());
BEGIN
  IF NOT app.is_platform_admin() THEN
    RAISE EXCEPTION 'only a platform admin may create a clinic' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF clinic_name IS NULL OR length(btrim(clinic_name)) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'a clinic name is 1 to 200 characters' USING ERRCODE = 'check_violation', COLUMN = 'name';
  END IF;
  IF admin_id IS NULL THEN
    RAISE EXCEPTION 'a clinic needs its first admin' USING ERRCODE = 'not_null_violation', COLUMN = 'first_admin';
  END IF;
  INSERT INTO clinics (name) VALUES (btrim(clinic_name)) RETURNING id INTO clinic;
  INSERT INTO clinic_staff (clinic_id, user_id, role) VALUES (clinic, admin_id, 'admin');
  INSERT INTO audit_log (actor, role, action, table_name, row_id, request_id, detail)
    VALUES (auth.uid(), app.claim_role(), 'create', 'clinics', clinic, left(request_id, 128),
            jsonb_build_object('first_admin', admin_id, 'view', 'platform_admin'));
  RETURN clinic;
END
$$;

-- Staff role claims follow the memberships. Before, only the operator's `staff add` wrote the sign-in's
-- app_metadata; a nurse added in the console had the membership but a token still saying "patient", so the
-- console turned them away until someone ran the CLI. Now a trigger keeps app_metadata {role, clinic_id} equal
-- to the membership just written (the last one wins, as `staff add` did), and a sign-in left with no membership
-- goes back to patient (a platform admin stays admin). Where the sign-ins live in an external Supabase project
-- there is no auth.users here and this does nothing (a custom access token hook does it there).
--
-- The safety net: a clinic admin (an API caller) may not take in someone who is staff of a clinic they do not
-- administer, since rewriting that person's claims would change what their own clinic sees them as. The
-- operator may.
CREATE OR REPLACE FUNCTION app.staff_claims() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  who uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
  latest record;
BEGIN
  IF TG_OP <> 'DELETE' AND coalesce(auth.jwt() ->> 'role', '') = 'authenticated'
     AND EXISTS (SELECT 1 FROM clinic_staff s WHERE s.user_id = who AND s.clinic_id <> NEW.clinic_id
                 AND s.clinic_id NOT IN (SELECT app.my_clinics('{admin}'))) THEN
    RAISE EXCEPTION 'this user is staff of another clinic; the operator adds them (healthsync server staff add)'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF to_regclass('auth.users') IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    EXECUTE 'UPDATE auth.users SET updated_at = now(), raw_app_meta_data = coalesce(raw_app_meta_data, ''{}'') '
            '|| jsonb_build_object(''role'', $1::text, ''clinic_id'', $2::text) WHERE id = $3'
      USING NEW.role, NEW.clinic_id, who;
    RETURN NULL;
  END IF;
  SELECT s.clinic_id, s.role INTO latest FROM clinic_staff s WHERE s.user_id = who
    ORDER BY s.added_at DESC, s.clinic_id LIMIT 1;
  IF FOUND THEN
    EXECUTE 'UPDATE auth.users SET updated_at = now(), raw_app_meta_data = coalesce(raw_app_meta_data, ''{}'') '
            '|| jsonb_build_object(''role'', $1::text, ''clinic_id'', $2::text) WHERE id = $3'
      USING latest.role, latest.clinic_id, who;
  ELSE
    EXECUTE 'UPDATE auth.users SET updated_at = now(), raw_app_meta_data = (coalesce(raw_app_meta_data, ''{}'') '
            '- ''clinic_id'') || jsonb_build_object(''role'', CASE WHEN raw_app_meta_data ->> ''platform_admin'' '
            '= ''true'' THEN ''admin'' ELSE ''patient'' END) WHERE id = $1'
      USING who;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER clinic_staff_claims AFTER INSERT OR UPDATE OF role OR DELETE ON clinic_staff
  FOR EACH ROW EXECUTE FUNCTION app.staff_claims();

CALL app.own_by_service_role(ARRAY['app.create_clinic(text, uuid, text)', 'app.staff_claims()']);
