-- Health alerts (issue 11): a symptom synced with a red flag (or emergency urgency) in its triage raises an alert
-- for the patient's care team in the push's own transaction, with a `health_alert` event; the care team
-- acknowledges it, and an unacknowledged one escalates after app.settings alert_escalate_seconds (a server job).
CREATE TABLE health_alerts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid NOT NULL,
  clinic_id       uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
  symptom_id      uuid NOT NULL UNIQUE,
  urgency         text,
  red_flags       jsonb NOT NULL DEFAULT '[]',
  raised_at       timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by uuid,
  escalated_at    timestamptz,
  level           integer NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 5)
);
CREATE INDEX health_alerts_tenant_owner ON health_alerts (clinic_id, user_id, raised_at DESC);
CREATE INDEX health_alerts_open ON health_alerts (raised_at) WHERE acknowledged_at IS NULL;
INSERT INTO app.settings (key, value) VALUES ('alert_escalate_seconds', '300') ON CONFLICT (key) DO NOTHING;

ALTER TABLE health_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE health_alerts FORCE ROW LEVEL SECURITY;
-- Read like the symptom it comes from (0051's read policy); acknowledged by anyone of the care team.
CREATE POLICY health_alerts_select ON health_alerts FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid())
         OR EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = health_alerts.user_id
                    AND r.status = 'active' AND NOT r.deleted
                    AND r.clinic_id IN (SELECT app.my_clinics('{nurse,doctor,admin}')))
         OR user_id IN (SELECT app.appointment_patients())
         OR user_id IN (SELECT app.glass_patients()));
CREATE POLICY health_alerts_ack ON health_alerts FOR UPDATE TO authenticated
  USING (user_id IN (SELECT app.clinic_patients('{nurse,doctor,admin}')) OR user_id IN (SELECT app.appointment_patients()))
  WITH CHECK (acknowledged_by = (SELECT auth.uid()));
GRANT SELECT ON health_alerts TO authenticated;
GRANT UPDATE (acknowledged_at, acknowledged_by) ON health_alerts TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON health_alerts TO service_role;

-- The red-flag test, shared by the trigger's WHEN and the tests' expectations: any rule red flag, or an
-- emergency urgency, in the on-device triage.
CREATE OR REPLACE FUNCTION app.is_red_flag(triage jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_typeof(triage -> 'red_flags') = 'array' AND jsonb_array_length(triage -> 'red_flags') > 0,
                  false)
      OR coalesce(triage ->> 'urgency' = 'emergency', false)
$$;

CREATE OR REPLACE FUNCTION app.symptom_alert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  alert health_alerts%ROWTYPE;
  flags jsonb := CASE WHEN jsonb_typeof(NEW.triage -> 'red_flags') = 'array' THEN
                   (SELECT coalesce(jsonb_agg(jsonb_build_object('id', f ->> 'id', 'title', f ->> 'title')), '[]')
                      FROM jsonb_array_elements(NEW.triage -> 'red_flags') f) ELSE '[]' END;
BEGIN
  INSERT INTO health_alerts (user_id, clinic_id, symptom_id, urgency, red_flags)
  VALUES (NEW.user_id, NEW.clinic_id, NEW.id, left(NEW.triage ->> 'urgency', 32), flags)
  ON CONFLICT (symptom_id) DO NOTHING RETURNING * INTO alert;
  IF alert.id IS NOT NULL THEN
    PERFORM app.emit_event('health_alert', 'patient:' || NEW.user_id, jsonb_build_object(
        'alert_id', alert.id, 'patient_id', NEW.user_id, 'symptom_id', NEW.id, 'urgency', alert.urgency,
        'red_flags', flags, 'severity', NEW.severity, 'recorded_at', NEW.recorded_at, 'level', 1,
        'status', 'raised'), NEW.user_id, NULL);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER symptoms_alert AFTER INSERT ON symptoms
  FOR EACH ROW WHEN (app.is_red_flag(NEW.triage) AND NOT NEW.deleted)
  EXECUTE FUNCTION app.symptom_alert();

CALL app.own_by_service_role(ARRAY['app.symptom_alert()']);
GRANT EXECUTE ON FUNCTION app.is_red_flag(jsonb) TO authenticated, service_role;
