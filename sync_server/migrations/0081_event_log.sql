-- The real-time event log (issue 11): every event is written in the same transaction as the change it reports,
-- numbered by one global sequence, and read back by RLS: a row names its audience (the users who may read the rows
-- it is about, computed when it is written), so fan-out needs no query per connection per event.
--
-- Ordering without serialising writers: a sequence hands out numbers in call order (CACHE 1), not commit order, so
-- a reader that saw seq 7 could miss seq 6 committing later. So every emitting transaction first takes a shared
-- advisory lock (it never blocks anyone: nobody takes it exclusively) and only then draws its number; and each
-- event records which other emitting transactions held that lock right after its number was drawn (`waits_for`,
-- their virtual transaction ids from pg_locks). Any transaction holding a smaller number is among them or already
-- finished, so a reader that delivers event s only once none of them holds the lock any more (checking pg_locks
-- *before* it reads the log) can never see a smaller number appear later (sync_server/events/log.py).
CREATE SEQUENCE event_seq CACHE 1;

CREATE TABLE event_log (
  seq        bigint PRIMARY KEY,
  waits_for  text[] NOT NULL DEFAULT '{}',
  event      text NOT NULL CHECK (event ~ '^[a-z_]+$' AND length(event) <= 64),
  topic      text NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
  payload    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
  patient_id uuid,
  audience   uuid[] NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_log_audience ON event_log USING gin (audience);
CREATE INDEX event_log_at ON event_log (at);

-- The relay's high-water mark (the last seq it published), so a new leader resumes where the last one stopped.
CREATE TABLE event_relay_state (
  id   integer PRIMARY KEY CHECK (id = 1),
  high bigint NOT NULL
);
INSERT INTO event_relay_state (id, high) VALUES (1, 0);

ALTER TABLE event_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_log FORCE ROW LEVEL SECURITY;
CREATE POLICY event_log_select ON event_log FOR SELECT TO authenticated
  USING (audience @> ARRAY[(SELECT auth.uid())]);
GRANT SELECT ON event_log TO authenticated;
GRANT SELECT, INSERT, DELETE ON event_log TO service_role;
GRANT SELECT, UPDATE ON event_relay_state TO service_role;
GRANT USAGE, SELECT ON SEQUENCE event_seq TO service_role;

-- ---------------------------------------------------------------- audiences (who may read what, as user ids)

-- Everyone who may read a patient's clinical rows under 0051 (break-glass aside: it is a reading, not a care team):
-- the patient, the staff of clinics where they are registered, doctors with an appointment in the care window.
CREATE OR REPLACE FUNCTION app.patient_readers(patient uuid) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT array(
    SELECT patient
    UNION SELECT s.user_id FROM registrations r JOIN clinic_staff s ON s.clinic_id = r.clinic_id
           WHERE r.user_id = patient AND r.status = 'active' AND NOT r.deleted
    UNION SELECT d.user_id FROM appointments a JOIN doctors d ON d.id = a.doctor_id
           WHERE a.patient_id = patient AND NOT a.deleted AND NOT d.deleted AND d.user_id IS NOT NULL
             AND a.scheduled_at >= now() - make_interval(days => (app.setting('care_window_days', '90'))::text::int))
$$;

-- Who may read an appointment (0051 + 0080): its patient, the nurses and admins of the patient's clinics, the
-- booked doctor, and while it is an open request the doctors matched to it.
CREATE OR REPLACE FUNCTION app.appointment_readers(appt uuid) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT array(
    SELECT a.patient_id FROM appointments a WHERE a.id = appt
    UNION SELECT s.user_id FROM appointments a JOIN registrations r ON r.user_id = a.patient_id
           JOIN clinic_staff s ON s.clinic_id = r.clinic_id AND s.role IN ('nurse', 'admin')
           WHERE a.id = appt AND r.status = 'active' AND NOT r.deleted
    UNION SELECT d.user_id FROM appointments a JOIN doctors d ON d.id = a.doctor_id
           WHERE a.id = appt AND NOT d.deleted AND d.user_id IS NOT NULL
    UNION SELECT d.user_id FROM appointments a JOIN appointment_matches m ON m.appointment_id = a.id
           JOIN doctors d ON d.id = m.doctor_id
           WHERE a.id = appt AND a.status = 'requested' AND NOT d.deleted AND d.user_id IS NOT NULL)
$$;

-- Who may read a bid: the request's patient, the nurses and admins of the patient's clinics, the bidding doctor.
CREATE OR REPLACE FUNCTION app.bid_readers(bid uuid) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT array(
    SELECT a.patient_id FROM appointment_bids b JOIN appointments a ON a.id = b.appointment_id WHERE b.id = bid
    UNION SELECT s.user_id FROM appointment_bids b JOIN appointments a ON a.id = b.appointment_id
           JOIN registrations r ON r.user_id = a.patient_id
           JOIN clinic_staff s ON s.clinic_id = r.clinic_id AND s.role IN ('nurse', 'admin')
           WHERE b.id = bid AND r.status = 'active' AND NOT r.deleted
    UNION SELECT d.user_id FROM appointment_bids b JOIN doctors d ON d.id = b.doctor_id
           WHERE b.id = bid AND d.user_id IS NOT NULL)
$$;

-- ---------------------------------------------------------------- emit

-- Append one event in the current transaction; returns its seq. The relay is woken at commit (NOTIFY is
-- transactional: an event rolled back wakes no one). For triggers and the server (service_role) only; API callers
-- go through app.emit below. A NULL audience means everyone who may read the patient.
-- 1213416790 = 0x48535645 ("HSVE"), key 1: the emitters' lock (sync_server/events/log.py reads it by these keys).
CREATE OR REPLACE FUNCTION app.emit_event(p_event text, p_topic text, p_payload jsonb, p_patient uuid,
                                          p_audience uuid[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  s bigint;
  who uuid[] := coalesce(p_audience, app.patient_readers(p_patient));
BEGIN
  PERFORM pg_advisory_xact_lock_shared(1213416790, 1);   -- the lock first, then the number (see the top)
  s := nextval('event_seq');
  INSERT INTO event_log (seq, waits_for, event, topic, payload, patient_id, audience)
  VALUES (s, array(SELECT l.virtualtransaction FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.classid = 1213416790 AND l.objid = 1 AND l.objsubid = 2
                      AND l.granted AND l.pid <> pg_backend_pid()),
          p_event, p_topic, coalesce(p_payload, '{}'), p_patient,
          array(SELECT DISTINCT u FROM unnest(who) u WHERE u IS NOT NULL));
  PERFORM pg_notify('healthsync_events', s::text);
  RETURN s;
END
$$;

-- The same for an API caller (`authenticated`): the event must be about a patient the caller may read, and only
-- people who may read that patient are told.
CREATE OR REPLACE FUNCTION app.emit_event_as_caller(p_event text, p_topic text, p_payload jsonb, p_patient uuid,
                                                    p_audience uuid[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  readers uuid[] := app.patient_readers(p_patient);
BEGIN
  IF p_patient IS NULL OR NOT ((SELECT auth.uid()) = ANY(readers)) THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'events may only be raised about a patient the caller reads';
  END IF;
  RETURN app.emit_event(p_event, p_topic, p_payload, p_patient,
                        array(SELECT unnest(coalesce(p_audience, readers)) INTERSECT SELECT unnest(readers)));
END
$$;

-- What sync_server.events.emit calls: picks one of the two by the role running the transaction (an invoker's
-- function, so current_user is the caller's role; PL/pgSQL plans the branch it takes only).
CREATE OR REPLACE FUNCTION app.emit(p_event text, p_topic text, p_payload jsonb, p_patient uuid,
                                    p_audience uuid[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF current_user = 'authenticated' THEN
    RETURN app.emit_event_as_caller(p_event, p_topic, p_payload, p_patient, p_audience);
  END IF;
  RETURN app.emit_event(p_event, p_topic, p_payload, p_patient, p_audience);
END
$$;

-- ---------------------------------------------------------------- the marketplace's events

CREATE OR REPLACE FUNCTION app.appointment_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status
     AND NEW.scheduled_at IS NOT DISTINCT FROM OLD.scheduled_at AND NEW.deleted IS NOT DISTINCT FROM OLD.deleted THEN
    RETURN NULL;
  END IF;
  PERFORM app.emit_event('appointment_update', 'appointment:' || NEW.id, jsonb_build_object(
      'appointment_id', NEW.id, 'status', NEW.status,
      'previous_status', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
      'patient_id', NEW.patient_id, 'doctor_id', NEW.doctor_id, 'scheduled_at', NEW.scheduled_at,
      'ends_at', NEW.ends_at, 'specialty', NEW.specialty, 'urgency', NEW.urgency, 'bid_id', NEW.bid_id,
      'price', NEW.price, 'reason', NEW.reason, 'deleted', NEW.deleted),
    NEW.patient_id, app.appointment_readers(NEW.id));
  RETURN NULL;
END
$$;
CREATE TRIGGER appointments_event AFTER INSERT OR UPDATE ON appointments
  FOR EACH ROW EXECUTE FUNCTION app.appointment_event();

CREATE OR REPLACE FUNCTION app.bid_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  patient uuid := (SELECT a.patient_id FROM appointments a WHERE a.id = NEW.appointment_id);
BEGIN
  PERFORM app.emit_event('appointment_bid', 'appointment:' || NEW.appointment_id, jsonb_build_object(
      'bid_id', NEW.id, 'appointment_id', NEW.appointment_id, 'doctor_id', NEW.doctor_id,
      'doctor_name', (SELECT d.full_name FROM doctors d WHERE d.id = NEW.doctor_id), 'price', NEW.price,
      'slot_start', NEW.slot_start, 'slot_end', NEW.slot_end, 'note', NEW.note, 'status', NEW.status),
    patient,
    -- A decision on a bid goes to its doctor only; a new bid to everyone who may read it.
    CASE WHEN TG_OP = 'INSERT' THEN app.bid_readers(NEW.id)
         ELSE array(SELECT d.user_id FROM doctors d WHERE d.id = NEW.doctor_id) END);
  RETURN NULL;
END
$$;
CREATE TRIGGER appointment_bids_event AFTER INSERT OR UPDATE OF status ON appointment_bids
  FOR EACH ROW EXECUTE FUNCTION app.bid_event();

CALL app.own_by_service_role(ARRAY[
  'app.patient_readers(uuid)', 'app.appointment_readers(uuid)', 'app.bid_readers(uuid)',
  'app.emit_event_as_caller(text, text, jsonb, uuid, uuid[])', 'app.appointment_event()', 'app.bid_event()']);
-- The unchecked emitter: the triggers (owned by service_role) and the server only.
ALTER FUNCTION app.emit_event(text, text, jsonb, uuid, uuid[]) OWNER TO service_role;
REVOKE ALL ON FUNCTION app.emit_event(text, text, jsonb, uuid, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.emit_event(text, text, jsonb, uuid, uuid[]) TO service_role;
GRANT EXECUTE ON FUNCTION app.emit(text, text, jsonb, uuid, uuid[]) TO authenticated, service_role;
