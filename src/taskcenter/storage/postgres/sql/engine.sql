-- The job engine's reads and writes (storage/postgres/engine.py). A job's columns are always
-- selected in the order storage/postgres/rows.py reads them.

-- name: jobs_claim
-- Up to $2 due Pending jobs run by workers become Running under a lease ($4) for worker $3,
-- with their events: one statement, one round trip, however many jobs. SKIP LOCKED lets
-- concurrent workers each take different due jobs without waiting.
WITH due AS (
    SELECT id FROM jobs WHERE run_by_worker AND status = 'Pending' AND run_at <= $1
    ORDER BY run_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE jobs j SET status = 'Running', started_at = COALESCE(j.started_at, $1),
        attempt = j.attempt + 1, lease_owner = $3, lease_expires = $4
    FROM due WHERE j.id = due.id
    RETURNING j.id, j.project_id, j.name, j.status, j.created_at, j.started_at, j.ended_at,
        j.progress, j.instance_id, j.instance_name, j.entities, j.fail_reason, j.sub_tasks,
        j.idempotency_key, j.run_by_worker, j.run_at, j.attempt, j.max_attempts, j.lease_owner,
        j.lease_expires, j.cancel_requested, j.params, j.scheduled
), events AS (
    INSERT INTO job_events (job_id, from_status, to_status, at, detail)
    SELECT id, 'Pending', 'Running', $1,
        'claimed by ' || $3 || ', attempt ' || attempt || ' of ' || max_attempts
    FROM claimed
)
SELECT * FROM claimed ORDER BY run_at, created_at;

-- name: leases_renew
UPDATE jobs SET lease_expires = $1
WHERE id = ANY($2::uuid[]) AND status = 'Running' AND lease_owner = $3
RETURNING id, cancel_requested;

-- name: jobs_finish
-- The rules of domain.engine.finished, as one fenced statement for a batch of outcomes, given
-- as arrays of (job, worker, attempt, status, fail reason); $6 is now. Each returned row is the
-- job as it is now, then the status the handler reported.
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[])
        AS i(id, worker, attempt, status, reason)
), ended AS (
    UPDATE jobs j SET
        status = CASE WHEN i.status = 'Completed' AND j.cancel_requested
            THEN 'Canceled' ELSE i.status END,
        ended_at = $6,
        progress = CASE WHEN i.status = 'Completed' AND NOT j.cancel_requested
            THEN 100 ELSE j.progress END,
        fail_reason = CASE WHEN i.status = 'Failed' THEN i.reason ELSE j.fail_reason END,
        lease_owner = NULL, lease_expires = NULL,
        -- domain.job.stored_params: the secrets go, the other keys stay as they were written,
        -- in their order, compact (as orjson writes them).
        params = CASE WHEN 'secrets' IN (SELECT json_object_keys(j.params)) THEN (
            SELECT COALESCE(
                '{' || string_agg(to_json(p.key)::text || ':' || p.value::text, ',' ORDER BY p.n) || '}',
                '{}')::json
            FROM json_each(j.params) WITH ORDINALITY AS p(key, value, n)
            WHERE p.key <> 'secrets'
        ) ELSE j.params END
    FROM input i
    WHERE j.id = i.id AND j.status = 'Running' AND j.lease_owner = i.worker
        AND j.attempt = i.attempt
    RETURNING j.id, j.project_id, j.name, j.status, j.created_at, j.started_at, j.ended_at,
        j.progress, j.instance_id, j.instance_name, j.entities, j.fail_reason, j.sub_tasks,
        j.idempotency_key, j.run_by_worker, j.run_at, j.attempt, j.max_attempts, j.lease_owner,
        j.lease_expires, j.cancel_requested, j.params, j.scheduled, i.status AS reported
), events AS (
    INSERT INTO job_events (job_id, from_status, to_status, at, detail)
    SELECT id, 'Running', status, $6, CASE
        WHEN status = 'Canceled' AND reported = 'Completed'
            THEN 'the handler finished after a cancel was accepted'
        WHEN status = 'Failed' THEN 'attempt ' || attempt || ' failed'
        WHEN status = 'Canceled' THEN 'the handler stopped on a cancel request'
        ELSE 'attempt ' || attempt || ' completed' END
    FROM ended
)
SELECT * FROM ended;

-- name: jobs_notify
-- $1: the channel workers listen on (storage/postgres/listen.py), $2: the job's id.
SELECT pg_notify($1, $2);

-- name: jobs_lease_expired
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE run_by_worker AND status = 'Running' AND lease_expires < $1
ORDER BY lease_expires LIMIT $2 FOR UPDATE SKIP LOCKED;

-- name: jobs_ended_before
SELECT id FROM jobs WHERE ended_at IS NOT NULL AND ended_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED;

-- name: job_events_delete_many
DELETE FROM job_events WHERE job_id = ANY($1::uuid[]);

-- name: jobs_delete_many
DELETE FROM jobs WHERE id = ANY($1::uuid[]);

-- name: leader_take
-- Takes the duty, or renews it for its owner; no row while another holds it unexpired.
INSERT INTO leaders (name, owner, expires) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
WHERE leaders.owner = excluded.owner OR leaders.expires < $4
RETURNING owner;
