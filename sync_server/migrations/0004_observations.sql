-- Append-only clinical observations (edge/schema.py: HealthMetric, Symptom, TherapySession, Prediction,
-- HealthEvent). No foreign keys to users: changes arrive from offline devices in any order, and ownership is
-- enforced by RLS against the token, not by the presence of a profile row.

-- Physiological bounds per metric type. The migration runner refreshes this table from edge.schema.METRICS on
-- every `migrate`, so the database check can never drift from the pydantic validation the edge uses.
CREATE TABLE metric_specs (
  metric_type text PRIMARY KEY,
  unit        text NOT NULL,
  low         double precision NOT NULL,
  high        double precision NOT NULL,
  CHECK (low <= high)
);

CREATE TABLE health_metrics (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  supersedes    uuid,
  -- Digits allowed (hba1c); metric_specs below is the real whitelist.
  metric_type   text NOT NULL CHECK (metric_type ~ '^[a-zA-Z0-9_]+$' AND length(metric_type) <= 64),
  unit          text,
  value         double precision NOT NULL CHECK (value = value AND value <> 'Infinity' AND value <> '-Infinity'),
  recorded_at   timestamptz NOT NULL,
  source        text NOT NULL DEFAULT 'manual'
                CHECK (source IN ('manual', 'device', 'wearable', 'scan', 'voice', 'therapy', 'sync')),
  notes         text CHECK (length(notes) <= 2000),
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX health_metrics_owner ON health_metrics (user_id, metric_type, recorded_at DESC);
CREATE INDEX health_metrics_change_seq ON health_metrics (change_seq);

-- Runs as the table owner's privileges so API roles need no grant on metric_specs.
CREATE OR REPLACE FUNCTION check_metric_bounds() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  spec metric_specs%ROWTYPE;
BEGIN
  SELECT * INTO spec FROM metric_specs WHERE metric_type = NEW.metric_type;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown metric_type %', NEW.metric_type
      USING ERRCODE = 'check_violation', COLUMN = 'metric_type';
  END IF;
  IF NEW.value < spec.low OR NEW.value > spec.high THEN
    RAISE EXCEPTION 'value % is outside % .. % % for %', NEW.value, spec.low, spec.high, spec.unit, NEW.metric_type
      USING ERRCODE = 'check_violation', COLUMN = 'value';
  END IF;
  IF NEW.unit IS NOT NULL AND NEW.unit <> spec.unit THEN
    RAISE EXCEPTION 'unit % is not the canonical unit % of %', NEW.unit, spec.unit, NEW.metric_type
      USING ERRCODE = 'check_violation', COLUMN = 'unit';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER health_metrics_bounds BEFORE INSERT OR UPDATE OF metric_type, value, unit ON health_metrics
  FOR EACH ROW EXECUTE FUNCTION check_metric_bounds();

CREATE TABLE symptoms (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL,
  supersedes     uuid,
  description    text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
  severity       integer NOT NULL CHECK (severity BETWEEN 0 AND 10),
  recorded_at    timestamptz NOT NULL,
  duration_days  double precision CHECK (duration_days BETWEEN 0 AND 36500),
  voice_analysis jsonb,
  triage         jsonb,
  model_versions jsonb,
  audio_path     text,
  hlc            text NOT NULL,
  col_clocks     jsonb NOT NULL DEFAULT '{}',
  deleted        boolean NOT NULL DEFAULT false,
  origin_device  uuid,
  change_seq     bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX symptoms_owner ON symptoms (user_id, recorded_at DESC);
CREATE INDEX symptoms_change_seq ON symptoms (change_seq);

CREATE TABLE therapy_sessions (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  supersedes    uuid,
  exercise      text NOT NULL CHECK (exercise ~ '^[a-z_]+$' AND length(exercise) <= 64),
  reps          integer NOT NULL CHECK (reps BETWEEN 0 AND 10000),
  score         double precision NOT NULL CHECK (score BETWEEN 0 AND 100),
  duration_s    double precision NOT NULL CHECK (duration_s BETWEEN 0 AND 86400),
  pain_before   integer CHECK (pain_before BETWEEN 0 AND 10),
  pain_after    integer CHECK (pain_after BETWEEN 0 AND 10),
  started_at    timestamptz NOT NULL,
  details       jsonb,
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX therapy_sessions_owner ON therapy_sessions (user_id, exercise, started_at DESC);
CREATE INDEX therapy_sessions_change_seq ON therapy_sessions (change_seq);

CREATE TABLE predictions (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  supersedes    uuid,
  disease       text NOT NULL CHECK (length(disease) <= 100),
  probability   double precision CHECK (probability BETWEEN 0 AND 1),
  confidence    double precision CHECK (confidence BETWEEN 0 AND 1),
  model_name    text NOT NULL CHECK (length(model_name) <= 100),
  model_version text NOT NULL CHECK (length(model_version) <= 50),
  inputs_hash   text NOT NULL CHECK (inputs_hash ~ '^[0-9a-f]{64}$'),
  created_at    timestamptz NOT NULL,
  details       jsonb,
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX predictions_owner ON predictions (user_id, disease, inputs_hash);
CREATE INDEX predictions_change_seq ON predictions (change_seq);

CREATE TABLE health_events (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  supersedes    uuid,
  event_type    text NOT NULL CHECK (event_type ~ '^[a-z_]+$' AND length(event_type) <= 64),
  occurred_at   timestamptz NOT NULL,
  data          jsonb NOT NULL DEFAULT '{}',
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX health_events_owner ON health_events (user_id, event_type, occurred_at DESC);
CREATE INDEX health_events_change_seq ON health_events (change_seq);

CREATE TRIGGER health_metrics_change_seq BEFORE UPDATE ON health_metrics FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER symptoms_change_seq BEFORE UPDATE ON symptoms FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER therapy_sessions_change_seq BEFORE UPDATE ON therapy_sessions FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER predictions_change_seq BEFORE UPDATE ON predictions FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER health_events_change_seq BEFORE UPDATE ON health_events FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
