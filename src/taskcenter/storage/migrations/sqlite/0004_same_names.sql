-- The same column names in both dialects: SQLite's times take the names PostgreSQL gives them.
-- Their values do not change: in SQLite a time stays an INTEGER of microseconds since the Unix
-- epoch (UTC), which storage/sqlite/rows.py converts; PostgreSQL's are TIMESTAMPTZ.
-- (SQLite rewrites the indexes, CHECKs and partial-index conditions that name a column.)
ALTER TABLE projects RENAME COLUMN created_us TO created_at;
ALTER TABLE users RENAME COLUMN created_us TO created_at;
ALTER TABLE access_keys RENAME COLUMN created_us TO created_at;
ALTER TABLE tokens RENAME COLUMN issued_us TO issued_at;
ALTER TABLE tokens RENAME COLUMN expires_us TO expires_at;
ALTER TABLE jobs RENAME COLUMN created_us TO created_at;
ALTER TABLE jobs RENAME COLUMN started_us TO started_at;
ALTER TABLE jobs RENAME COLUMN ended_us TO ended_at;
ALTER TABLE jobs RENAME COLUMN run_at_us TO run_at;
ALTER TABLE jobs RENAME COLUMN lease_expires_us TO lease_expires;
ALTER TABLE job_events RENAME COLUMN at_us TO at;
ALTER TABLE leaders RENAME COLUMN expires_us TO expires;
ALTER TABLE instances RENAME COLUMN created_us TO created_at;
ALTER TABLE instances RENAME COLUMN updated_us TO updated_at;
ALTER TABLE backups RENAME COLUMN begin_us TO begin_at;
ALTER TABLE backups RENAME COLUMN end_us TO end_at;

-- What the flag says: the job is run by workers (it has a handler), not only reported on by its
-- producer.
ALTER TABLE jobs RENAME COLUMN runnable TO run_by_worker;

-- entities, sub_tasks and params are kept as the text they were written as (TEXT), as
-- PostgreSQL now keeps them too (json, no longer jsonb): key order and all.
