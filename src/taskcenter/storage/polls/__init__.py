"""The path of GET /v3/{project_id}/jobs?id=: batches of lookups (batcher), run and rendered on
reader threads in C (_poll_readers.c) or their pure-Python twin (pure_readers, answer), chosen at
import (readers). Each dialect's package holds its lookup statement (sql/polls.sql) and its
batcher (polls.py)."""
