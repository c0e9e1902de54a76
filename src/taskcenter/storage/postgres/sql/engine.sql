-- The job engine's reads and writes (storage/postgres/engine.py). A job's columns are always
-- selected in the order storage/postgres/rows.py reads them. The changes to a job are decided by
-- domain.moves and written by jobs.sql's jobs_apply; nothing here composes a status or a reason.
--
-- "now": $1 where the caller gives one (tests pin time), else the database's clock, read once
-- per statement (a scalar subquery, so an index still finds what is due by it): one clock
-- decides leases and leadership for every node.

-- name: clock_now
SELECT clock_timestamp();

-- name: jobs_due
-- Up to $2 due Pending jobs run by workers, the longest due first, locked for their claim;
-- each row ends with the statement's now. SKIP LOCKED lets concurrent workers each take
-- different due jobs without waiting.
WITH clock AS (SELECT coalesce($1::timestamptz, clock_timestamp()) AS now)
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled, (SELECT now FROM clock)
FROM jobs WHERE run_by_worker AND status = 'Pending' AND run_at <= (SELECT now FROM clock)
ORDER BY run_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED;

-- name: leases_renew
-- Worker $3's leases on the jobs $2 it still holds, renewed for $4 from now.
WITH clock AS (SELECT coalesce($1::timestamptz, clock_timestamp()) AS now)
UPDATE jobs SET lease_expires = (SELECT now FROM clock) + $4::interval
WHERE id = ANY($2::uuid[]) AND status = 'Running' AND lease_owner = $3
RETURNING id, cancel_requested;

-- name: jobs_get_locked
-- The jobs $2 whose runs end, locked while their ends are decided and written; each row ends
-- with the statement's now.
WITH clock AS (SELECT coalesce($1::timestamptz, clock_timestamp()) AS now)
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled, (SELECT now FROM clock)
FROM jobs WHERE id = ANY($2::uuid[]) FOR UPDATE;

-- name: jobs_notify
-- $1: the channel workers listen on (storage/postgres/listen.py), $2: the job's id, or ''.
SELECT pg_notify($1, $2);

-- name: jobs_lease_expired
-- Up to $2 Running jobs whose lease expired, locked for their rescue; each row ends with the
-- statement's now.
WITH clock AS (SELECT coalesce($1::timestamptz, clock_timestamp()) AS now)
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled, (SELECT now FROM clock)
FROM jobs WHERE run_by_worker AND status = 'Running' AND lease_expires < (SELECT now FROM clock)
ORDER BY lease_expires LIMIT $2 FOR UPDATE SKIP LOCKED;

-- name: jobs_ended_before
SELECT id FROM jobs WHERE ended_at IS NOT NULL AND ended_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED;

-- name: job_events_delete_many
DELETE FROM job_events WHERE job_id = ANY($1::uuid[]);

-- name: jobs_delete_many
DELETE FROM jobs WHERE id = ANY($1::uuid[]);

-- name: leader_take
-- Takes duty $2 for owner $3 until now + $4, or renews it for its owner; no row while another
-- holds it unexpired.
WITH clock AS (SELECT coalesce($1::timestamptz, clock_timestamp()) AS now)
INSERT INTO leaders (name, owner, expires) SELECT $2, $3, now + $4::interval FROM clock
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
WHERE leaders.owner = excluded.owner OR leaders.expires < (SELECT now FROM clock)
RETURNING owner;

-- name: leader_resign
-- The owner steps down (a clean stop), so another node takes the duty at its next round.
DELETE FROM leaders WHERE name = $1 AND owner = $2;
