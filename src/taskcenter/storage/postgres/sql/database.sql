-- The PostgreSQL store's migrations (storage/postgres/database.py).

-- name: migration_lock
-- Serialises nodes that start at the same moment against one database, until the transaction
-- ends. Any constant works (this is 0x7A5C0001): it only has to be the same for every node.
SELECT pg_advisory_xact_lock(2052849665);

-- name: migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- name: migrations_applied
SELECT version FROM schema_migrations;

-- name: migration_record
INSERT INTO schema_migrations (version, name) VALUES ($1, $2);

-- name: schema_columns
-- The tables and columns of the schema the store's tables are in, with their types.
SELECT table_name, column_name, data_type
FROM information_schema.columns WHERE table_schema = current_schema();

-- name: scratch_schema_create
-- Where the migrations are run afresh, in a transaction that is then rolled back.
CREATE SCHEMA taskcenter_fresh_migration;

-- name: scratch_schema_use
SET LOCAL search_path TO taskcenter_fresh_migration;
