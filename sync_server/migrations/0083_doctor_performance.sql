-- doctor_performance (issue 11): per doctor, their rating, completed appointments, bids, bids won, win rate and
-- the mean time from a request being opened to their first bid on it. Aggregates over the directory, no patient
-- data; refreshed CONCURRENTLY on a schedule by the server (sync_server/marketplace/performance.py), which needs
-- the unique index.
CREATE MATERIALIZED VIEW doctor_performance AS
SELECT d.id AS doctor_id, d.user_id, d.full_name, d.specialty, d.rating,
       coalesce(c.completed, 0) AS completed_appointments,
       coalesce(b.bids, 0) AS bids,
       coalesce(b.won, 0) AS bids_won,
       CASE WHEN coalesce(b.bids, 0) > 0 THEN b.won::double precision / b.bids END AS win_rate,
       f.mean_first_bid_s AS mean_time_to_first_bid_s,
       now() AS refreshed_at
  FROM doctors d
  LEFT JOIN (SELECT doctor_id, count(*) AS completed FROM appointments
              WHERE status = 'completed' AND NOT deleted GROUP BY doctor_id) c ON c.doctor_id = d.id
  LEFT JOIN (SELECT doctor_id, count(*) AS bids, count(*) FILTER (WHERE status = 'accepted') AS won
               FROM appointment_bids GROUP BY doctor_id) b ON b.doctor_id = d.id
  LEFT JOIN (SELECT fb.doctor_id, avg(extract(epoch FROM fb.first_at - a.created_at))::double precision AS mean_first_bid_s
               FROM (SELECT doctor_id, appointment_id, min(created_at) AS first_at FROM appointment_bids
                      GROUP BY doctor_id, appointment_id) fb
               JOIN appointments a ON a.id = fb.appointment_id
              GROUP BY fb.doctor_id) f ON f.doctor_id = d.id
 WHERE NOT d.deleted
WITH DATA;
CREATE UNIQUE INDEX doctor_performance_doctor ON doctor_performance (doctor_id);
GRANT SELECT ON doctor_performance TO authenticated, service_role;
