-- Issue 11: a resume from before the retained event log is told so (EVENTS_PRUNED) instead of silently starting at
-- the oldest retained event. The pruning job records the highest seq it deleted; a socket resuming with
-- since < pruned_upto may have missed events nobody can replay, so it must reload the state (REST, sync pull).
ALTER TABLE event_relay_state ADD COLUMN pruned_upto bigint NOT NULL DEFAULT 0;

-- Only a sequence number, the same for everyone: no patient data. Read by the socket under the caller's own role.
GRANT SELECT (id, pruned_upto) ON event_relay_state TO authenticated;
