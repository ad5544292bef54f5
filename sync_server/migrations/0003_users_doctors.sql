-- Profiles and the doctor directory (edge/schema.py: User, Doctor).
CREATE TABLE users (
  id               uuid PRIMARY KEY,
  email            text CHECK (email IS NULL OR (length(email) <= 320 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$')),
  full_name        text CHECK (length(full_name) <= 200),
  date_of_birth    date,
  sex              text CHECK (sex IN ('female', 'male')),
  role             text NOT NULL DEFAULT 'patient' CHECK (role IN ('patient', 'doctor', 'admin')),
  phone            text CHECK (length(phone) <= 40),
  llm_consent      boolean NOT NULL DEFAULT false,
  audio_opt_in     boolean NOT NULL DEFAULT false,
  image_ai_consent boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  hlc              text NOT NULL,
  col_clocks       jsonb NOT NULL DEFAULT '{}',
  deleted          boolean NOT NULL DEFAULT false,
  origin_device    uuid,
  change_seq       bigint NOT NULL DEFAULT nextval('sync_change_seq')
);

CREATE TABLE doctors (
  id             uuid PRIMARY KEY,
  user_id        uuid UNIQUE,
  full_name      text NOT NULL CHECK (length(full_name) <= 200),
  specialty      text NOT NULL CHECK (length(specialty) <= 100),
  license_number text CHECK (length(license_number) <= 64),
  rating         double precision CHECK (rating BETWEEN 0 AND 5),
  hourly_rate    double precision CHECK (hourly_rate >= 0),
  available      boolean NOT NULL DEFAULT true,
  hlc            text NOT NULL,
  col_clocks     jsonb NOT NULL DEFAULT '{}',
  deleted        boolean NOT NULL DEFAULT false,
  origin_device  uuid,
  change_seq     bigint NOT NULL DEFAULT nextval('sync_change_seq')
);
CREATE INDEX doctors_specialty ON doctors (specialty);
CREATE INDEX doctors_change_seq ON doctors (change_seq);
CREATE INDEX users_change_seq ON users (change_seq);

CREATE TRIGGER users_change_seq BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
CREATE TRIGGER doctors_change_seq BEFORE UPDATE ON doctors FOR EACH ROW EXECUTE FUNCTION bump_change_seq();
