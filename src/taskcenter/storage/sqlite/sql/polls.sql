-- GET /v3/{project_id}/jobs?id= (storage/sqlite/polls.py), run by the poll reader's thread.

-- name: lookup
-- One lookup: (job id, project id, visible-since µs) -> the shown columns, in the order the
-- reader renders them (storage/polls/_poll_readers.c, answer.py). Unknown, foreign and expired
-- jobs alike get no row.
SELECT id, name, status, created_at, ended_at, progress, instance_id, instance_name, entities, fail_reason
FROM jobs
WHERE jobs.id = ?1 AND jobs.project_id = ?2 AND (jobs.ended_at IS NULL OR jobs.ended_at >= ?3);
