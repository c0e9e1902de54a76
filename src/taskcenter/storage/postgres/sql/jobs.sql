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

-- name: jobs_apply
-- Writes jobs as domain.moves decided them, given as arrays (storage/postgres/rows.py's
-- apply_values): each over the one its decision saw, only if it is still that one (status,
-- attempt, lease owner and cancel request unchanged), so a late or duplicate write can never
-- overwrite another's; and the decided events ($21..$26) of the jobs written. The count of jobs
-- written: fewer than given means one had changed. No status, reason or detail is made here.
WITH input AS (
    SELECT * FROM unnest(
        $1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::text[],
        $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::int[],
        $13::text[], $14::timestamptz[], $15::bool[], $16::text[],
        $17::text[], $18::int[], $19::text[], $20::bool[]
    ) AS i(id, status, started_at, ended_at, progress, instance_id, instance_name, entities,
           fail_reason, sub_tasks, run_at, attempt, lease_owner, lease_expires, cancel_requested,
           params, seen_status, seen_attempt, seen_owner, seen_cancel_requested)
), written AS (
    UPDATE jobs j SET status = i.status, started_at = i.started_at, ended_at = i.ended_at,
        progress = i.progress, instance_id = i.instance_id, instance_name = i.instance_name,
        entities = i.entities::json, fail_reason = i.fail_reason, sub_tasks = i.sub_tasks::json,
        run_at = i.run_at, attempt = i.attempt, lease_owner = i.lease_owner,
        lease_expires = i.lease_expires, cancel_requested = i.cancel_requested,
        params = i.params::json
    FROM input i
    WHERE j.id = i.id AND j.status = i.seen_status AND j.attempt = i.seen_attempt
        AND j.lease_owner IS NOT DISTINCT FROM i.seen_owner
        AND j.cancel_requested = i.seen_cancel_requested
    RETURNING j.id
), events AS (
    INSERT INTO job_events (job_id, from_status, to_status, at, detail, move)
    SELECT e.* FROM unnest($21::uuid[], $22::text[], $23::text[], $24::timestamptz[], $25::text[],
                           $26::text[]) AS e(job_id, from_status, to_status, at, detail, move)
    WHERE e.job_id IN (SELECT id FROM written)
)
SELECT count(*) FROM written;

-- name: job_event_insert
INSERT INTO job_events (job_id, from_status, to_status, at, detail, move) VALUES ($1, $2, $3, $4, $5, $6);

-- name: job_events_list
SELECT job_id, from_status, to_status, at, detail, move FROM job_events WHERE job_id = $1 ORDER BY seq;

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
