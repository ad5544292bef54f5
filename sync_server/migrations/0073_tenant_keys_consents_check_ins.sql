-- Consents and check-ins carry the clinic (tenant) key leading their indexes, like every patient-data row (0050):
-- the data can later be distributed by tenant (Citus-style co-location) without a redesign.
--   * check_ins already name the clinic the patient arrived at (clinic_id, NOT NULL): that is their tenant.
--   * consents use clinic_id for what a share consent is about (NULL for audio, llm, image_ai), so their tenant
--     is a column of its own, tenant_id, filled as 0050 fills clinic_id: the pushing kiosk's clinic (app.tenant),
--     else the patient's first active registration's clinic, else the nil tenant. Existing rows get the
--     patient's tenant now.

-- The tenant of a new row into a tenant column named by the second trigger argument (0050's app.fill_tenant
-- writes clinic_id only).
CREATE OR REPLACE FUNCTION app.fill_tenant_column() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[1],
                                                       app.tenant_of((to_jsonb(NEW) ->> TG_ARGV[0])::uuid)));
  RETURN NEW;
END
$$;
GRANT EXECUTE ON FUNCTION app.fill_tenant_column() TO authenticated, service_role;

ALTER TABLE consents ADD COLUMN tenant_id uuid;
UPDATE consents SET tenant_id = app.tenant_of(user_id);
ALTER TABLE consents ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE consents ALTER COLUMN tenant_id SET DEFAULT app.session_tenant();
CREATE TRIGGER consents_tenant BEFORE INSERT ON consents FOR EACH ROW WHEN (NEW.tenant_id IS NULL)
  EXECUTE FUNCTION app.fill_tenant_column('user_id', 'tenant_id');
DROP INDEX consents_owner;
CREATE INDEX consents_tenant_owner ON consents (tenant_id, user_id, kind, recorded_at DESC);

DROP INDEX check_ins_owner;
CREATE INDEX check_ins_tenant_owner ON check_ins (clinic_id, user_id, checked_in_at DESC);
