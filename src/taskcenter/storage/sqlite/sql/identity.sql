-- Projects, users, access keys and tokens (storage/sqlite/identity.py).

-- name: project_insert
INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?);

-- name: user_insert
INSERT INTO users (id, name, project_id, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?, ?);

-- name: access_key_insert
INSERT INTO access_keys (access_key, secret_key, user_id, created_at) VALUES (?, ?, ?, ?);

-- name: users_any
SELECT 1 FROM users LIMIT 1;

-- name: user_by_name
SELECT id, name, project_id, password_hash, is_admin FROM users WHERE name = ?;

-- name: project_get
SELECT id, name FROM projects WHERE id = ?;

-- name: project_by_name
SELECT id, name FROM projects WHERE name = ?;

-- name: access_key_get
-- The key with its user and that user's project.
SELECT k.access_key, k.secret_key, u.id, u.name, p.id, p.name, u.is_admin
FROM access_keys k JOIN users u ON u.id = k.user_id JOIN projects p ON p.id = u.project_id
WHERE k.access_key = ?;

-- name: token_insert
INSERT INTO tokens (token_hash, user_id, project_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?);

-- name: token_get
SELECT t.token_hash, u.id, u.name, p.id, p.name, u.is_admin, t.issued_at, t.expires_at
FROM tokens t JOIN users u ON u.id = t.user_id JOIN projects p ON p.id = t.project_id
WHERE t.token_hash = ?;

-- name: projects_list
-- Every project, oldest first, with a row per user (or one with no user).
SELECT p.id, p.name, p.created_at, u.name
FROM projects p LEFT JOIN users u ON u.project_id = p.id
ORDER BY p.created_at, p.id, u.name;

-- name: project_live_instances
-- ?2: the status of a deleted instance.
SELECT count(*) FROM instances WHERE project_id = ?1 AND status <> ?2;

-- name: project_unfinished_jobs
SELECT count(*) FROM jobs WHERE project_id = ? AND ended_at IS NULL;

-- name: project_tokens_delete
DELETE FROM tokens WHERE project_id = ?1 OR user_id IN (SELECT id FROM users WHERE project_id = ?1);

-- name: project_access_keys_delete
DELETE FROM access_keys WHERE user_id IN (SELECT id FROM users WHERE project_id = ?);

-- name: project_users_delete
DELETE FROM users WHERE project_id = ?;

-- name: project_delete
DELETE FROM projects WHERE id = ?;

-- name: user_password_set
UPDATE users SET password_hash = ? WHERE id = ?;

-- name: user_tokens_delete
DELETE FROM tokens WHERE user_id = ?;

-- name: user_access_keys_delete
DELETE FROM access_keys WHERE user_id = ?;
