-- GET /v3/{project_id}/jobs?id= (storage/postgres/polls.py), run by the poll readers' threads
-- over libpq (storage/polls/_poll_readers.c says why).

-- name: batch
-- The lookups arrive as three arrays, built in binary by the reader. Unknown, foreign and
-- expired jobs alike get no row; each row is its lookup's position and the shown columns, in
-- the order the reader renders them, read in binary (entities is json: its text).
SELECT (k.i - 1)::int, jobs.id::text, jobs.name, jobs.status, jobs.created_at, jobs.ended_at,
       jobs.progress, jobs.instance_id, jobs.instance_name, jobs.entities, jobs.fail_reason
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(id, project_id, since, i)
JOIN jobs ON jobs.id = k.id AND jobs.project_id = k.project_id
WHERE jobs.ended_at IS NULL OR jobs.ended_at >= k.since;

-- name: session_settings
-- A lookup that hangs (a lock, a stuck server) fails its polls rather than holding them.
--
-- The generic plan, always: PostgreSQL otherwise plans the statement anew for each batch
-- whenever its estimate for the batch's arrays is below the generic plan's (it assumes 10
-- lookups), so batches of a few polls, the common case under moderate load, paid a planning
-- each. Measured on the backend's CPU (bench/NOTES.md): batches of 4 took 73-81 µs a lookup so,
-- 19-31 µs with the generic plan; batches of 16 the same either way, since it picks the generic
-- plan there. The plan does not depend on the arrays: a nested loop over them, probing jobs by id.
SET statement_timeout = '10s';
SET plan_cache_mode = force_generic_plan;
