-- The console's device health (issue 13). A device reports what only it knows about its sync (pending and
-- quarantined counts, the quarantined changes' table and reason, its app and schema version, its last error);
-- the server's own facts (last accepted push, last pull) come from sync_applied and the audit log. Admins of a
-- clinic read both for the clinic's devices through app.device_health(), under their own identity.
-- Device ids are per user (0017): a report is keyed like its device, (owner, id); user_id is who reported.
CREATE TABLE device_reports (
  owner_id       uuid NOT NULL,
  device_id      uuid NOT NULL,
  user_id        uuid NOT NULL,
  clinic_id      uuid REFERENCES clinics (id),
  reported_at    timestamptz NOT NULL DEFAULT now(),
  app_version    text CHECK (length(app_version) <= 64),
  schema_version integer CHECK (schema_version BETWEEN 0 AND 1000000),
  pending        integer NOT NULL DEFAULT 0 CHECK (pending BETWEEN 0 AND 100000000),
  quarantined    integer NOT NULL DEFAULT 0 CHECK (quarantined BETWEEN 0 AND 100000000),
  quarantine     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(quarantine) = 'array'),
  last_error     text CHECK (length(last_error) <= 500),
  last_push_at   timestamptz,
  last_pull_at   timestamptz,
  PRIMARY KEY (owner_id, device_id),
  FOREIGN KEY (owner_id, device_id) REFERENCES sync_devices (user_id, id)
);
CREATE INDEX device_reports_clinic ON device_reports (clinic_id, reported_at);
ALTER TABLE device_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_reports FORCE ROW LEVEL SECURITY;
-- Written by whoever is signed in on a device they may see (its owner, or a clinic device's staff); the route
-- also proves the device signed the report. Read by the reporter and the clinic's admins.
CREATE POLICY device_reports_insert ON device_reports FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()) AND device_id IN (SELECT d.id FROM sync_devices d WHERE d.user_id = device_reports.owner_id));
CREATE POLICY device_reports_update ON device_reports FOR UPDATE TO authenticated
  USING (device_id IN (SELECT d.id FROM sync_devices d WHERE d.user_id = device_reports.owner_id))
  WITH CHECK (user_id = (SELECT auth.uid()) AND device_id IN (SELECT d.id FROM sync_devices d WHERE d.user_id = device_reports.owner_id));
CREATE POLICY device_reports_select ON device_reports FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR clinic_id IN (SELECT app.my_clinics('{admin}')));
GRANT SELECT, INSERT, UPDATE ON device_reports TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON device_reports TO service_role;

-- Last accepted push and last pull per device, each one index probe.
CREATE INDEX sync_applied_device ON sync_applied (device_id, applied_at DESC);
CREATE INDEX audit_log_device_pull ON audit_log (device_id, at DESC) WHERE action = 'sync_pull';

-- The clinic devices of the caller's clinics where they are an admin (plus the caller's own devices), with the
-- server's facts and the device's last report. SECURITY DEFINER because sync_applied is readable only by its own
-- user: the function answers only devices the caller administers, never their rows.
CREATE OR REPLACE FUNCTION app.device_health() RETURNS TABLE (
  id uuid, name text, kind text, clinic_id uuid, user_id uuid, enrolled_at timestamptz, revoked_at timestamptz,
  last_push_at timestamptz, last_pull_at timestamptz, reported_at timestamptz, app_version text,
  schema_version integer, pending integer, quarantined integer, quarantine jsonb, last_error text,
  last_seen_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT d.id, d.name, d.kind, d.clinic_id, d.user_id, d.enrolled_at, d.revoked_at,
           greatest(p.at, r.last_push_at), greatest(l.at, r.last_pull_at), r.reported_at, r.app_version,
           r.schema_version, r.pending, r.quarantined, r.quarantine, r.last_error,
           greatest(p.at, l.at, r.reported_at, r.last_push_at, r.last_pull_at, d.enrolled_at)
      FROM sync_devices d
      LEFT JOIN device_reports r ON r.owner_id = d.user_id AND r.device_id = d.id
      LEFT JOIN LATERAL (SELECT max(a.applied_at) AS at FROM sync_applied a WHERE a.device_id = d.id
                                           AND (d.kind = 'clinic' OR a.user_id = d.user_id)) p ON true
      LEFT JOIN LATERAL (SELECT max(g.at) AS at FROM audit_log g
                          WHERE g.device_id = d.id AND g.action = 'sync_pull'
                            AND (d.kind = 'clinic' OR g.actor = d.user_id)) l ON true
     WHERE d.user_id = auth.uid() OR d.clinic_id IN (SELECT app.my_clinics('{admin}'));
END
$$;
ALTER FUNCTION app.device_health() OWNER TO service_role;
REVOKE ALL ON FUNCTION app.device_health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.device_health() TO authenticated, service_role;
GRANT SELECT ON sync_applied, audit_log, sync_devices, device_reports TO service_role;

-- A chart shows what stands: rows no correction superseded. The NOT EXISTS probe needs an index on supersedes
-- (partial: corrections are few).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['health_metrics', 'symptoms', 'therapy_sessions', 'predictions', 'medications'] LOOP
    EXECUTE format('CREATE INDEX %I ON %I (supersedes) WHERE supersedes IS NOT NULL', t || '_supersedes', t);
  END LOOP;
END
$$;

-- Readings per day at the caller's clinics where they are an admin: counts only, never a row, so the admin's
-- analytics tile need not run the per-row read policy over every reading of the clinic.
CREATE OR REPLACE FUNCTION app.metric_volumes(days integer) RETURNS TABLE (day timestamptz, n bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT date_trunc('day', m.recorded_at), count(*) FROM health_metrics m
     WHERE m.clinic_id IN (SELECT app.my_clinics('{admin}')) AND NOT m.deleted
       AND m.recorded_at >= now() - make_interval(days => days)
     GROUP BY 1 ORDER BY 1;
END
$$;
ALTER FUNCTION app.metric_volumes(integer) OWNER TO service_role;
REVOKE ALL ON FUNCTION app.metric_volumes(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.metric_volumes(integer) TO authenticated, service_role;

-- The console lists a clinic's patients by name, a page at a time: walked in name order, each row checked by RLS.
CREATE INDEX users_full_name ON users (full_name, id);
