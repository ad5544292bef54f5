-- A doctor sees only the appointments booked with them (appointments_doctor_select, 0008), never a colleague's:
-- 0008's generic select policy also let a doctor read every appointment of each of their patients, with the
-- other doctor's reason text. Patients still see their own, admins all.
DROP POLICY appointments_select ON appointments;
CREATE POLICY appointments_select ON appointments FOR SELECT TO authenticated
  USING (patient_id = (SELECT auth.uid()) OR (SELECT app.is_admin()));
