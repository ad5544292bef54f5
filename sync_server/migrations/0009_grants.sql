-- The minimum privileges per API role. RLS (0008) then decides which rows.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, anon, authenticated;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, anon, authenticated;

GRANT SELECT, INSERT ON users, health_metrics, symptoms, therapy_sessions, predictions, health_events,
  family_graph, appointments TO authenticated;
-- Profiles merge per column, so every profile column may change.
GRANT UPDATE ON users TO authenticated;
-- Observations are append-only: only the tombstone and the sync metadata may change.
GRANT UPDATE (deleted, hlc, col_clocks, origin_device)
  ON health_metrics, symptoms, therapy_sessions, predictions, health_events TO authenticated;
GRANT UPDATE (members, deleted, hlc, col_clocks, origin_device) ON family_graph TO authenticated;
GRANT UPDATE (status, scheduled_at, reason, updated_at, deleted, hlc, col_clocks, origin_device)
  ON appointments TO authenticated;

GRANT SELECT, INSERT, UPDATE, DELETE ON doctors TO authenticated;
GRANT SELECT, INSERT ON audit_log TO authenticated;
GRANT SELECT ON metric_specs TO authenticated;
GRANT USAGE, SELECT ON SEQUENCE sync_change_seq TO authenticated;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO service_role;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO service_role;
-- anon (no token) gets nothing in public.
