-- health_metrics partitioned by year of recorded_at (issue 11 item 7): the biggest table, read per patient and time
-- window, so a year-bounded read touches one partition and old years can later be detached or archived whole.
-- The table keeps its name, columns, defaults, checks, indexes, triggers, row-level security policies (all of
-- them: 0051's care scope as amended since) and grants; its rows move over with their ids and change_seq (devices'
-- pull cursors stay valid). Nothing depends on the table by OID (no view, foreign key or materialized view;
-- app.metric_volumes and the supersedes check name it in text), so a rename-and-swap inside this one migration
-- transaction is the whole conversion.
--
-- Why an id registry: a partitioned table's unique indexes must contain the partition key, so the primary key
-- becomes (id, recorded_at), and that alone would let one id exist twice under two recorded_at values (a replay of
-- an edited reading, a second device, a second user). Sync deduplicates observations by id (reconcile's
-- `INSERT … SELECT` skips ids already taken; the edge mints the id once per observation), so id must stay unique
-- across partitions. app.health_metric_ids holds one row per health_metrics row with id as its primary key; a
-- statement trigger registers the ids of every INSERT (and COPY) into health_metrics in the same statement, so a
-- second row with a taken id fails with the unique_violation the old primary key raised, waiting, as a unique
-- index does, for a concurrent transaction that registered the same id. Deletes release their ids; an id never
-- changes; a row moved to another year by an UPDATE keeps its registration. A registry rather than a cross-partition
-- lookup in a row trigger: a lookup would race two concurrent inserts into two partitions, the registry's primary
-- key cannot. Statement triggers over transition tables rather than row triggers: measured on 50,000 inserted rows,
-- a PL/pgSQL row trigger added 41% to the insert, the statement trigger 5%. Writes go through health_metrics:
-- no role but the table's owner may write a partition directly, and such a write would not be registered.
CREATE TABLE app.health_metric_ids (
  id uuid PRIMARY KEY
);
-- Readable by the API role so reconcile can skip taken ids before inserting (ids only: no owner, time or value,
-- and the schema `app` is not exposed over HTTP); written only by the triggers below (owned by service_role).
GRANT SELECT ON app.health_metric_ids TO authenticated;
GRANT SELECT, INSERT, DELETE, TRUNCATE ON app.health_metric_ids TO service_role;

CREATE OR REPLACE FUNCTION app.health_metric_ids_register() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  registered bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM app.health_metric_ids r USING released o WHERE r.id = o.id;
    RETURN NULL;
  ELSIF TG_OP = 'TRUNCATE' THEN
    TRUNCATE app.health_metric_ids;
    RETURN NULL;
  END IF;
  INSERT INTO app.health_metric_ids (id) SELECT id FROM claimed ON CONFLICT (id) DO NOTHING;
  GET DIAGNOSTICS registered = ROW_COUNT;
  IF registered < (SELECT count(*) FROM claimed) THEN
    -- An id already registered (or twice in this statement). The old primary key's error, word for word: callers
    -- (the metrics POST's 409, reconcile's row-by-row retry) see what they saw before the table was partitioned.
    RAISE EXCEPTION 'duplicate key value violates unique constraint "health_metrics_pkey"'
      USING ERRCODE = 'unique_violation', CONSTRAINT = 'health_metrics_pkey', TABLE = 'health_metrics';
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION app.health_metric_id_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the id of a health metric never changes' USING ERRCODE = 'check_violation', COLUMN = 'id';
END
$$;
CALL app.own_by_service_role(ARRAY['app.health_metric_ids_register()', 'app.health_metric_id_fixed()']);

-- The correction check (0011) looks the superseded row up in the table the trigger fires on. A row trigger of a
-- partitioned table fires on the partition, so the lookup would see one year only and let a correction supersede
-- another patient's reading of another year: the trigger now passes the table to search (partitioned tables pass
-- their own name; the other tables pass nothing and keep TG_TABLE_NAME).
CREATE OR REPLACE FUNCTION app.check_supersedes_owner() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  original_owner uuid;
BEGIN
  EXECUTE format('SELECT user_id FROM %I WHERE id = $1', coalesce(TG_ARGV[0], TG_TABLE_NAME))
    INTO original_owner USING NEW.supersedes;
  IF original_owner IS NOT NULL AND original_owner <> NEW.user_id THEN
    RAISE EXCEPTION 'supersedes must name a row of the same patient'
      USING ERRCODE = 'check_violation', COLUMN = 'supersedes';
  END IF;
  RETURN NEW;
END
$$;

DO $$
DECLARE
  this_year int := extract(year FROM now() AT TIME ZONE 'UTC');
  y int;
  r record;
  index_defs text[];
  trigger_defs text[];
  policy_defs text[];
  grants text[];
  stmt text;
BEGIN
  -- 1. What the table has today, read while it still bears its name (so expressions print `health_metrics.…`).
  SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY c.relname) INTO index_defs
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE i.indrelid = 'public.health_metrics'::regclass AND NOT i.indisprimary;
  SELECT array_agg(pg_get_triggerdef(t.oid) ORDER BY t.tgname) INTO trigger_defs
    FROM pg_trigger t
   WHERE t.tgrelid = 'public.health_metrics'::regclass AND NOT t.tgisinternal
     AND t.tgname <> 'health_metrics_supersedes_owner';  -- recreated below with its table argument
  SELECT array_agg(format('CREATE POLICY %I ON public.health_metrics AS %s FOR %s TO %s%s%s', p.policyname,
                          p.permissive, p.cmd, array_to_string(p.roles, ', '),
                          CASE WHEN p.qual IS NOT NULL THEN ' USING (' || p.qual || ')' ELSE '' END,
                          CASE WHEN p.with_check IS NOT NULL THEN ' WITH CHECK (' || p.with_check || ')' ELSE '' END)
                   ORDER BY p.policyname) INTO policy_defs
    FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = 'health_metrics';
  -- Table-wide privileges, then per-column ones (0009's UPDATE on the sync columns), for every grantee.
  SELECT array_agg(g) INTO grants FROM (
    SELECT format('GRANT %s ON public.health_metrics TO %I', a.privilege_type, a.grantee::regrole) AS g
      FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.oid = 'public.health_metrics'::regclass AND a.grantee <> c.relowner AND a.grantee <> 0
    UNION ALL
    SELECT format('GRANT %s (%I) ON public.health_metrics TO %I', a.privilege_type, att.attname, a.grantee::regrole)
      FROM pg_attribute att, aclexplode(att.attacl) a
     WHERE att.attrelid = 'public.health_metrics'::regclass AND att.attacl IS NOT NULL AND a.grantee <> 0) s;

  -- 2. The old table steps aside; its indexes free their names.
  ALTER TABLE public.health_metrics RENAME TO health_metrics_unpartitioned;
  FOR r IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'public.health_metrics_unpartitioned'::regclass LOOP
    EXECUTE format('ALTER INDEX public.%I RENAME TO %I', r.relname, 'old_' || r.relname);
  END LOOP;

  -- 3. The partitioned table: same columns, defaults, NOT NULLs and checks (LIKE), partitioned by recorded_at.
  CREATE TABLE public.health_metrics (LIKE public.health_metrics_unpartitioned
    INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)
    PARTITION BY RANGE (recorded_at);
  -- One partition per year (UTC) that holds rows today, and last year to five years ahead; the DEFAULT partition
  -- takes any other date (a reading from 1950 or a mistyped 2150), so no insert ever fails for its date. Years of
  -- data before 1970 or beyond the horizon stay in DEFAULT rather than making hundreds of partitions.
  FOR y IN SELECT DISTINCT yr FROM (
             SELECT extract(year FROM recorded_at AT TIME ZONE 'UTC')::int AS yr
               FROM public.health_metrics_unpartitioned
             UNION SELECT generate_series(this_year - 1, this_year + 5)) years
           WHERE yr BETWEEN 1970 AND this_year + 5 ORDER BY yr LOOP
    EXECUTE format('CREATE TABLE public.%I PARTITION OF public.health_metrics FOR VALUES FROM (%L) TO (%L)',
                   'health_metrics_y' || y, make_timestamptz(y, 1, 1, 0, 0, 0, 'UTC'),
                   make_timestamptz(y + 1, 1, 1, 0, 0, 0, 'UTC'));
  END LOOP;
  CREATE TABLE public.health_metrics_default PARTITION OF public.health_metrics DEFAULT;

  -- 4. The rows, as they are (ids, change_seq, tenants, clocks): no trigger exists yet, so nothing is re-validated
  -- or re-stamped; their ids are registered in one statement.
  INSERT INTO public.health_metrics SELECT * FROM public.health_metrics_unpartitioned;
  INSERT INTO app.health_metric_ids (id) SELECT id FROM public.health_metrics_unpartitioned;

  -- 5. Keys, indexes, triggers, policies, grants.
  ALTER TABLE public.health_metrics ADD CONSTRAINT health_metrics_pkey PRIMARY KEY (id, recorded_at);
  FOREACH stmt IN ARRAY index_defs LOOP
    EXECUTE stmt;
  END LOOP;
  FOREACH stmt IN ARRAY trigger_defs LOOP
    EXECUTE stmt;
  END LOOP;
  CREATE TRIGGER health_metrics_supersedes_owner BEFORE INSERT OR UPDATE OF supersedes, user_id
    ON public.health_metrics FOR EACH ROW WHEN (NEW.supersedes IS NOT NULL)
    EXECUTE FUNCTION app.check_supersedes_owner('health_metrics');
  CREATE TRIGGER health_metrics_ids_claimed AFTER INSERT ON public.health_metrics
    REFERENCING NEW TABLE AS claimed FOR EACH STATEMENT EXECUTE FUNCTION app.health_metric_ids_register();
  CREATE TRIGGER health_metrics_ids_released AFTER DELETE ON public.health_metrics
    REFERENCING OLD TABLE AS released FOR EACH STATEMENT EXECUTE FUNCTION app.health_metric_ids_register();
  CREATE TRIGGER health_metrics_ids_truncated AFTER TRUNCATE ON public.health_metrics
    FOR EACH STATEMENT EXECUTE FUNCTION app.health_metric_ids_register();
  CREATE TRIGGER health_metrics_id_fixed BEFORE UPDATE OF id ON public.health_metrics
    FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id) EXECUTE FUNCTION app.health_metric_id_fixed();
  ALTER TABLE public.health_metrics ENABLE ROW LEVEL SECURITY;
  ALTER TABLE public.health_metrics FORCE ROW LEVEL SECURITY;
  FOREACH stmt IN ARRAY policy_defs LOOP
    EXECUTE stmt;
  END LOOP;
  FOREACH stmt IN ARRAY grants LOOP
    EXECUTE stmt;
  END LOOP;

  DROP TABLE public.health_metrics_unpartitioned;
END
$$;
ANALYZE public.health_metrics;
