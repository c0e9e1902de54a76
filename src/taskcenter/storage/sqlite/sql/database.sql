-- The SQLite store's connections, transactions and migrations (storage/sqlite/database.py).

-- name: connection_settings
-- Every connection that writes. FULL: an acknowledged job survives a power cut, not only a
-- process crash.
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA foreign_keys=ON;

-- name: read_settings
-- Every connection's, the poll reader's included: reads through a memory map and a larger page
-- cache, so random lookups among millions of jobs cost no read() system call each.
PRAGMA busy_timeout=5000;
PRAGMA mmap_size=4294967296;
PRAGMA cache_size=-65536;

-- name: begin_write
-- Takes SQLite's one write lock at once, so what a write reads is what it updates.
BEGIN IMMEDIATE;

-- name: begin_read
BEGIN;

-- name: commit
COMMIT;

-- name: rollback
ROLLBACK;

-- name: migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- name: migrations_applied
SELECT version FROM schema_migrations;

-- name: migration_record
INSERT INTO schema_migrations (version, name) VALUES (?, ?);

-- name: schema_columns
-- Every table's columns and their declared types (SQLite's own tables left out).
SELECT t.name, c.name, c.type
FROM sqlite_master AS t JOIN pragma_table_info(t.name) AS c
WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%';
