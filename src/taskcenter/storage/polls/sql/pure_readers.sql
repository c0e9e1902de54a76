-- The SQLite poll reader in pure Python (storage/polls/pure_readers.py): what it asks SQLite
-- besides the lookup it is given.

-- name: as_text
-- A value converted as sqlite3_column_text converts it in the C reader.
SELECT CAST(?1 AS TEXT);

-- name: as_integer
-- A value converted as sqlite3_column_int64 converts it in the C reader.
SELECT CAST(?1 AS INTEGER);

-- name: explain
-- Put before a statement: compiles it without running it.
EXPLAIN
