-- The job engine's reads and writes (storage/sqlite/engine.py); a job's changes are written by
-- storage/sqlite/jobs.py's job_save, fenced, with their event.

-- name: jobs_due
-- Pending jobs run by workers whose time has come, the longest due first.
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE run_by_worker = 1 AND status = 'Pending' AND run_at <= ?
ORDER BY run_at, seq LIMIT ?;

-- name: lease_renew
UPDATE jobs SET lease_expires = ?
WHERE id = ? AND status = 'Running' AND lease_owner = ?
RETURNING cancel_requested;

-- name: jobs_lease_expired
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE run_by_worker = 1 AND status = 'Running' AND lease_expires < ?
ORDER BY lease_expires LIMIT ?;

-- name: jobs_ended_before
SELECT id FROM jobs WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?;

-- name: leader_take
-- Takes the duty, or renews it for its owner; no row while another holds it unexpired.
INSERT INTO leaders (name, owner, expires) VALUES (?1, ?2, ?3)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
WHERE leaders.owner = excluded.owner OR leaders.expires < ?4
RETURNING owner;

-- name: leader_resign
-- The owner steps down (a clean stop), so another node takes the duty at its next round.
DELETE FROM leaders WHERE name = ? AND owner = ?;
