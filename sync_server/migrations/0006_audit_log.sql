-- Who read or wrote whose data, when, from which device and request. API roles may only append.
CREATE TABLE audit_log (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  at         timestamptz NOT NULL DEFAULT now(),
  actor      uuid,
  role       text NOT NULL,
  action     text NOT NULL CHECK (action ~ '^[a-z_]+$'),
  table_name text NOT NULL,
  row_id     uuid,
  subject_id uuid,
  device_id  uuid,
  request_id text CHECK (length(request_id) <= 128),
  detail     jsonb
);
CREATE INDEX audit_log_subject ON audit_log (subject_id, at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);
