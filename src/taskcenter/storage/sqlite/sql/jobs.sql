-- The task center's jobs (storage/sqlite/jobs.py). A job's columns are always selected in the
-- order storage/sqlite/rows.py reads them. Times are integer microseconds since the Unix epoch.

-- name: job_get
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE id = ?;

-- name: job_get_visible
-- A job of the project that has not ended before the retention cut-off.
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE id = ? AND project_id = ? AND (ended_at IS NULL OR ended_at >= ?);

-- name: job_by_idempotency_key
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE project_id = ? AND idempotency_key = ?;

-- name: instance_busy
SELECT 1 FROM jobs WHERE instance_id = ? AND ended_at IS NULL LIMIT 1;

-- name: job_insert
INSERT INTO jobs (
    id, project_id, name, status, created_at, started_at, ended_at, progress,
    instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
    run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
    cancel_requested, params, scheduled
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: job_name_insert
INSERT OR IGNORE INTO job_names (project_id, name) VALUES (?, ?);

-- name: job_save
-- Writes a job as domain.moves decided it, over the one the decision saw: only if it is still
-- that one (status, attempt, lease owner and cancel request unchanged), so a late or duplicate
-- write can never overwrite another's.
UPDATE jobs SET status = ?1, started_at = ?2, ended_at = ?3, progress = ?4, instance_id = ?5,
    instance_name = ?6, entities = ?7, fail_reason = ?8, sub_tasks = ?9, run_at = ?10,
    attempt = ?11, lease_owner = ?12, lease_expires = ?13, cancel_requested = ?14, params = ?15
WHERE id = ?16 AND status = ?17 AND attempt = ?18 AND lease_owner IS ?19 AND cancel_requested = ?20;

-- name: job_event_insert
INSERT INTO job_events (job_id, from_status, to_status, at, detail, move) VALUES (?, ?, ?, ?, ?, ?);

-- name: job_events_list
SELECT job_id, from_status, to_status, at, detail, move FROM job_events WHERE job_id = ? ORDER BY seq;

-- name: job_status_visible
SELECT status FROM jobs WHERE id = ? AND project_id = ? AND (ended_at IS NULL OR ended_at >= ?);

-- name: job_events_delete
DELETE FROM job_events WHERE job_id = ?;

-- name: job_delete
DELETE FROM jobs WHERE id = ?;

-- name: jobs_list
-- A page of the project's visible jobs, newest first.
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs
WHERE project_id = ?1 AND (ended_at IS NULL OR ended_at >= ?2) /* filters */
ORDER BY seq DESC LIMIT ?3 OFFSET ?4;

-- name: jobs_count
SELECT count(*) FROM jobs WHERE project_id = ?1 AND (ended_at IS NULL OR ended_at >= ?2) /* filters */;

-- name: job_names_list
SELECT name FROM job_names WHERE project_id = ? ORDER BY name;

-- name: scheduled_list
-- A page of the project's visible jobs created with a start time, the latest start first.
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs
WHERE project_id = ?1 AND scheduled = 1 AND (ended_at IS NULL OR ended_at >= ?2) /* filters */
ORDER BY run_at DESC, seq DESC LIMIT ?3 OFFSET ?4;

-- name: scheduled_count
SELECT count(*) FROM jobs
WHERE project_id = ?1 AND scheduled = 1 AND (ended_at IS NULL OR ended_at >= ?2) /* filters */;

-- The lists' optional filters (storage/sql.py Filters): each one's own parameter is ?1.

-- name: filter_status
status = ?1

-- name: filter_id
id = ?1

-- name: filter_name
name = ?1

-- name: filter_instance
instance_id = ?1

-- name: filter_created_from
created_at >= ?1

-- name: filter_created_to
created_at <= ?1

-- name: filter_run_at_from
run_at >= ?1

-- name: filter_run_at_to
run_at <= ?1
