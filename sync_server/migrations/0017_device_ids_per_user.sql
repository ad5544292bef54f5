-- Device ids are scoped per user: the key is (user_id, id). Before, enrolling an id that another user's device
-- already had answered 409 DUPLICATE, which told the caller that someone else's device id exists. Now each user
-- has their own namespace of device ids (RLS already shows each user only their own rows), so the same id
-- enrolls for a second user exactly as a fresh one would.
ALTER TABLE sync_devices DROP CONSTRAINT sync_devices_pkey;
ALTER TABLE sync_devices ADD PRIMARY KEY (user_id, id);
DROP INDEX sync_devices_user;  -- the primary key leads with user_id
