-- One-time claim codes (issue 10 item 5): a patient registered at a kiosk takes their record over from their phone.
-- The kiosk sends SHA-256 of the code it showed (never the code); the server keeps only HMAC-SHA256 of that digest
-- under a key derived from its own secret key (sync_server/claims.py), so this table alone cannot be turned back
-- into codes by trying all 2^50 of them. Tenant key first, like every clinic row.
CREATE TABLE patient_claims (
  clinic_id  uuid NOT NULL REFERENCES clinics (id),
  code_mac   text NOT NULL CHECK (code_mac ~ '^[0-9a-f]{64}$'),
  patient_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz,
  used_by    uuid,
  PRIMARY KEY (clinic_id, code_mac)
);
-- A code is looked up by its MAC alone (the phone does not know the clinic).
CREATE UNIQUE INDEX patient_claims_code ON patient_claims (code_mac);
CREATE INDEX patient_claims_patient ON patient_claims (clinic_id, patient_id);

-- Staff (nurse, admin) of the clinic may add a claim for a patient actively registered there, as themselves; nobody
-- but service_role (the claim endpoint) reads, marks or deletes one: no SELECT policy at all.
ALTER TABLE patient_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE patient_claims FORCE ROW LEVEL SECURITY;
CREATE POLICY patient_claims_insert ON patient_claims FOR INSERT TO authenticated
  WITH CHECK (created_by = (SELECT auth.uid())
              AND clinic_id IN (SELECT app.my_clinics('{nurse,admin}'))
              AND EXISTS (SELECT 1 FROM registrations r WHERE r.clinic_id = patient_claims.clinic_id
                          AND r.user_id = patient_claims.patient_id AND r.status = 'active' AND NOT r.deleted));
REVOKE ALL ON patient_claims FROM PUBLIC, anon, authenticated;
GRANT INSERT ON patient_claims TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON patient_claims TO service_role;
