-- Instances and backups (storage/postgres/instances.py). Their columns are always selected in
-- the order storage/postgres/rows.py reads them.

-- name: instance_insert
INSERT INTO instances (id, project_id, name, status, flavor_ref, port, request, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: instance_get
SELECT id, project_id, name, status, flavor_ref, port, request, created_at, updated_at
FROM instances WHERE id = $1;

-- name: instance_update
UPDATE instances SET status = COALESCE($1, status), port = COALESCE($2, port),
    flavor_ref = COALESCE($3, flavor_ref), updated_at = $4
WHERE id = $5
RETURNING id, project_id, name, status, flavor_ref, port, request, created_at, updated_at;

-- name: instances_with_status
SELECT id, project_id, name, status, flavor_ref, port, request, created_at, updated_at
FROM instances WHERE status = ANY($1::text[]);

-- name: instances_list
-- A page of the project's instances that are not deleted ($2), oldest first.
SELECT id, project_id, name, status, flavor_ref, port, request, created_at, updated_at
FROM instances WHERE project_id = $1 AND status <> $2 /* filters */
ORDER BY created_at, id LIMIT $3 OFFSET $4;

-- name: instances_count
SELECT count(*) FROM instances WHERE project_id = $1 AND status <> $2 /* filters */;

-- The instance list's optional filters (storage/sql.py Filters): each one's own parameter is $1.

-- name: instances_filter_id
id = $1

-- name: instances_filter_id_contains
strpos(id, $1) > 0

-- name: instances_filter_name
name = $1

-- name: instances_filter_name_contains
strpos(name, $1) > 0

-- name: instances_filter_vpc
request->>'vpc_id' = $1

-- name: instances_filter_subnet
request->>'subnet_id' = $1

-- name: instances_filter_tag
-- $1: [{"key": ..., "value": ...}], the tag the instance must have.
request->'tags' @> $1::jsonb

-- name: instances_filter_with_address
-- Not in the statuses $1 (creating, createfail): those have no address yet.
status <> ALL($1::text[])

-- name: job_unfinished_of_instance
SELECT id, project_id, name, status, created_at, started_at, ended_at, progress,
       instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key,
       run_by_worker, run_at, attempt, max_attempts, lease_owner, lease_expires,
       cancel_requested, params, scheduled
FROM jobs WHERE instance_id = $1 AND ended_at IS NULL LIMIT 1;

-- name: instance_has_jobs
SELECT EXISTS (
    SELECT 1 FROM jobs
    WHERE project_id = $1 AND instance_id = $2 AND (ended_at IS NULL OR ended_at >= $3)
);

-- name: backup_save
INSERT INTO backups
    (id, project_id, instance_id, name, description, status, size_bytes, begin_at, end_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE SET status = excluded.status, size_bytes = excluded.size_bytes,
    end_at = excluded.end_at;

-- name: backup_get
SELECT id, project_id, instance_id, name, description, status, size_bytes, begin_at, end_at
FROM backups WHERE id = $1 AND project_id = $2;

-- name: backups_list
-- A page of the project's backups, newest first.
SELECT id, project_id, instance_id, name, description, status, size_bytes, begin_at, end_at
FROM backups WHERE project_id = $1 /* filters */
ORDER BY begin_at DESC, id LIMIT $2 OFFSET $3;

-- name: backups_count
SELECT count(*) FROM backups WHERE project_id = $1 /* filters */;

-- The backup list's optional filters (storage/sql.py Filters).

-- name: backups_filter_instance
instance_id = $1

-- name: backups_filter_id
id = $1

-- name: backups_filter_name
name = $1

-- name: backups_filter_begin_from
begin_at >= $1

-- name: backups_filter_begin_to
begin_at <= $1

-- name: backups_filter_instance_name
-- Of an instance of project $1 named $2.
instance_id IN (SELECT id FROM instances WHERE project_id = $1 AND name = $2)
