-- Sync metadata shared by every replicated table: a global change sequence for pull cursors, bumped on
-- every INSERT (column default) and every UPDATE (trigger), so "rows changed after cursor N" is one index scan.
CREATE SEQUENCE IF NOT EXISTS sync_change_seq;
GRANT USAGE, SELECT ON SEQUENCE sync_change_seq TO authenticated, service_role;

CREATE OR REPLACE FUNCTION bump_change_seq() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_seq := nextval('sync_change_seq');
  RETURN NEW;
END
$$;

CREATE SCHEMA IF NOT EXISTS app;
GRANT USAGE ON SCHEMA app TO anon, authenticated, service_role;
