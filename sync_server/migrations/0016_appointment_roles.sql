-- The appointment state machine per role, enforced in the database so that no route (sync, REST, WebSocket) can
-- bypass it: a patient may request and cancel, only the practice (doctor, staff, admin) may confirm, book
-- directly, complete or mark a no-show. The rows are protocol.appointments.TRANSITIONS, copied in by the
-- migration runner on every run (sync_server.migrate.sync_appointment_transitions), so SQL and Python cannot drift.
-- from_status NULL is the creation of an appointment.
CREATE TABLE app.appointment_transitions (
  from_status text,
  to_status   text NOT NULL,
  role        text NOT NULL
);
GRANT SELECT ON app.appointment_transitions TO authenticated, service_role;

-- Checks API callers only (the `authenticated` role, whose application role is app_metadata.role in the JWT);
-- service_role and the server's own login role (seeds, maintenance) are trusted, as everywhere else.
-- SQLSTATE HS409 is mapped to the ILLEGAL_TRANSITION code by sync_server.db.translate; the message is
-- protocol.appointments.explain()'s text.
CREATE OR REPLACE FUNCTION app.check_appointment_transition() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  actor text;
  before text;
  allowed text;
BEGIN
  IF current_user <> 'authenticated' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
      RETURN NEW;
    END IF;
    before := OLD.status;
  END IF;
  actor := app.claim_role();
  IF EXISTS (SELECT 1 FROM app.appointment_transitions t
             WHERE t.from_status IS NOT DISTINCT FROM before AND t.to_status = NEW.status AND t.role = actor) THEN
    RETURN NEW;
  END IF;
  SELECT string_agg(t.role, ', ' ORDER BY t.role) INTO allowed FROM app.appointment_transitions t
   WHERE t.from_status IS NOT DISTINCT FROM before AND t.to_status = NEW.status;
  RAISE EXCEPTION USING ERRCODE = 'HS409', COLUMN = 'status', MESSAGE = format('a %s may not %s; allowed for: %s',
    actor,
    CASE WHEN before IS NULL THEN format('create an appointment as %s', NEW.status)
         ELSE format('move an appointment from %s to %s', before, NEW.status) END,
    coalesce(allowed, 'no one'));
END
$$;

CREATE TRIGGER appointments_transition BEFORE INSERT OR UPDATE OF status ON appointments
  FOR EACH ROW EXECUTE FUNCTION app.check_appointment_transition();
