-- The task center's jobs (storage/postgres/jobs.py). A job's columns are always selected in the
-- order storage/postgres/rows.py reads them.

-- name: job_get
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE id = $1;

-- name: job_get_locked
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE id = $1 FOR UPDATE;

-- name: job_get_visible
-- A job of the project that has not ended before the retention cut-off.
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE id = $1 AND project_id = $2 AND (ended_at IS NULL OR ended_at >= $3);

-- name: job_get_visible_locked
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE id = $1 AND project_id = $2 AND (ended_at IS NULL OR ended_at >= $3)
FOR UPDATE;

-- name: job_by_idempotency_key
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE project_id = $1 AND idempotency_key = $2;

-- name: instance_lock
-- Serialises operations on one instance across nodes until the transaction commits.
SELECT pg_advisory_xact_lock(hashtext($1));

-- name: instance_busy
SELECT 1 FROM jobs WHERE instance_id = $1 AND ended_at IS NULL LIMIT 1;

-- name: job_insert
-- No row when the project already has a job with this idempotency key.
INSERT INTO jobs (
    id, project_id, name, status, created_at, started_at, ended_at, progress,
    instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
    run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
    cancel_requested, params, scheduled
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
          $20, $21, $22, $23)
ON CONFLICT (project_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING seq;

-- name: job_name_insert
INSERT INTO job_names (project_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: jobs_notify
-- $1: the channel workers listen on (storage/postgres/listen.py), $2: the job's id.
SELECT pg_notify($1, $2);

-- name: job_save
-- Writes a job over the one that was read: only if it is still that one (status, attempt and
-- lease owner unchanged), so a late or duplicate write can never overwrite another's.
UPDATE jobs SET status = $1, started_at = $2, ended_at = $3, progress = $4, instance_id = $5,
    instance_name = $6, entities = $7, fail_reason = $8, sub_tasks = $9, run_at = $10,
    attempt = $11, lease_owner = $12, lease_expires = $13, cancel_requested = $14, params = $15
WHERE id = $16 AND status = $17 AND attempt = $18 AND lease_owner IS NOT DISTINCT FROM $19;

-- name: job_event_insert
INSERT INTO job_events (job_id, from_status, to_status, at, detail) VALUES ($1, $2, $3, $4, $5);

-- name: job_events_list
SELECT job_id, from_status, to_status, at, detail FROM job_events WHERE job_id = $1 ORDER BY seq;

-- name: job_status_visible_locked
SELECT status FROM jobs WHERE id = $1 AND project_id = $2 AND (ended_at IS NULL OR ended_at >= $3)
FOR UPDATE;

-- name: job_events_delete
DELETE FROM job_events WHERE job_id = $1;

-- name: job_delete
DELETE FROM jobs WHERE id = $1;

-- name: jobs_list
-- A page of the project's visible jobs, newest first.
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs
WHERE project_id = $1 AND (ended_at IS NULL OR ended_at >= $2) /* filters */
ORDER BY seq DESC LIMIT $3 OFFSET $4;

-- name: jobs_count
SELECT count(*) FROM jobs WHERE project_id = $1 AND (ended_at IS NULL OR ended_at >= $2) /* filters */;

-- name: job_names_list
SELECT name FROM job_names WHERE project_id = $1 ORDER BY name;

-- name: scheduled_list
-- A page of the project's visible jobs created with a start time, the latest start first.
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs
WHERE project_id = $1 AND scheduled AND (ended_at IS NULL OR ended_at >= $2) /* filters */
ORDER BY run_at DESC, seq DESC LIMIT $3 OFFSET $4;

-- name: scheduled_count
SELECT count(*) FROM jobs
WHERE project_id = $1 AND scheduled AND (ended_at IS NULL OR ended_at >= $2) /* filters */;

-- The lists' optional filters (storage/sql.py Filters): each one's own parameter is $1.

-- name: filter_status
status = $1

-- name: filter_id
id = $1::uuid

-- name: filter_name
name = $1

-- name: filter_instance
instance_id = $1

-- name: filter_created_from
created_at >= $1

-- name: filter_created_to
created_at <= $1

-- name: filter_run_at_from
run_at >= $1

-- name: filter_run_at_to
run_at <= $1
