-- Issue 11 (CI): concurrent bookings of one doctor's slot answered 503 DeadlockDetected. The exclusion constraint
-- checks after inserting its index entry, so two transactions booking overlapping slots of one doctor each saw the
-- other's uncommitted entry, each waited for the other, and Postgres aborted them. A live booking of a doctor now
-- first takes that doctor's advisory lock (the one the btree_gist-less fallback of 0080 already takes): bookings
-- of one doctor queue, the later one finds the earlier committed and gets the constraint's 23P01 (409 SLOT_TAKEN).
-- Bookings of different doctors do not wait on each other.
CREATE OR REPLACE FUNCTION app.appointment_doctor_lock() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('appointments:' || NEW.doctor_id));
  RETURN NEW;
END
$$;
CALL app.own_by_service_role(ARRAY['app.appointment_doctor_lock()']);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'appointments_no_double_booking' AND contype = 'x') THEN
    -- BEFORE triggers fire in name order: after appointments_transition_booking has copied the bid's doctor and
    -- slot, and before the row (and its exclusion index entry) is written.
    CREATE TRIGGER appointments_zz_lock_doctor BEFORE INSERT OR UPDATE ON appointments
      FOR EACH ROW WHEN (NEW.status IN ('booked', 'confirmed', 'checked_in', 'completed') AND NOT NEW.deleted
                         AND NEW.ends_at IS NOT NULL AND NEW.doctor_id IS NOT NULL)
      EXECUTE FUNCTION app.appointment_doctor_lock();
  END IF;
END
$$;
