-- Appointments (server-owned state machine) and the family graph document (edge/schema.py).
CREATE TABLE appointments (
  id            uuid PRIMARY KEY,
  patient_id    uuid NOT NULL,
  doctor_id     uuid NOT NULL,
  scheduled_at  timestamptz NOT NULL,
  status        text NOT NULL DEFAULT 'requested'
                CHECK (status IN ('requested', 'confirmed', 'cancelled', 'completed', 'no_show')),
  reason        text CHECK (length(reason) <= 2000),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX appointments_patient ON appointments (patient_id, scheduled_at);
CREATE INDEX appointments_doctor ON appointments (doctor_id, patient_id);
CREATE INDEX appointments_change_seq ON appointments (change_seq);

CREATE TABLE family_graph (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL,
  members       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(members) = 'object'),
  hlc           text NOT NULL,
  col_clocks    jsonb NOT NULL DEFAULT '{}',
  deleted       boolean NOT NULL DEFAULT false,
  origin_device uuid,
  change_seq    bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX family_graph_owner ON family_graph (user_id);
CREATE INDEX family_graph_change_seq ON family_graph (change_seq);

CREATE TRIGGER appointments_change_seq BEFORE UPDATE ON appointments FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER family_graph_change_seq BEFORE UPDATE ON family_graph FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
