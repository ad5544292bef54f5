-- A correction may only supersede a row of the same patient. Without this, a device could insert a row naming
-- another patient's observation in `supersedes` (RLS lets it insert its own row) and hide that observation from
-- readers that skip superseded rows. The lookup must see every patient's rows, so the function belongs to
-- service_role (BYPASSRLS), like the helpers in 0007. The trigger fires only for corrections (WHEN clause), so the
-- bulk path for ordinary observations pays nothing.
CREATE OR REPLACE FUNCTION app.check_supersedes_owner() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  original_owner uuid;
BEGIN
  EXECUTE format('SELECT user_id FROM %I WHERE id = $1', TG_TABLE_NAME) INTO original_owner USING NEW.supersedes;
  IF original_owner IS NOT NULL AND original_owner <> NEW.user_id THEN
    RAISE EXCEPTION 'supersedes must name a row of the same patient'
      USING ERRCODE = 'check_violation', COLUMN = 'supersedes';
  END IF;
  RETURN NEW;
END
$$;
ALTER FUNCTION app.check_supersedes_owner() OWNER TO service_role;
REVOKE ALL ON FUNCTION app.check_supersedes_owner() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.check_supersedes_owner() TO authenticated, service_role;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['health_metrics', 'symptoms', 'therapy_sessions', 'predictions', 'health_events'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF supersedes, user_id ON %I FOR EACH ROW '
                   'WHEN (NEW.supersedes IS NOT NULL) EXECUTE FUNCTION app.check_supersedes_owner()',
                   t || '_supersedes_owner', t);
  END LOOP;
END
$$;
