"""Versioned schema migrations: numbered .sql files per dialect, applied in order at start.

Hand-written rather than Alembic because the store is hand-written SQL per dialect (no ORM
models for Alembic to diff); the runner is a loop over files plus a version table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

# The tables and columns the code reads and writes. Checked at start after migrating, so a
# store whose schema drifted (or is newer than this code) is refused instead of misread.
EXPECTED_TABLES: dict[str, dict[str, frozenset[str]]] = {
    "sqlite": {
        "projects": frozenset({"id", "name", "created_us"}),
        "users": frozenset({"id", "name", "project_id", "password_hash", "is_admin", "created_us"}),
        "access_keys": frozenset({"access_key", "secret_key", "user_id", "created_us"}),
        "tokens": frozenset({"token_hash", "user_id", "project_id", "issued_us", "expires_us"}),
        "jobs": frozenset(
            {
                "seq", "id", "project_id", "name", "status", "created_us", "started_us",
                "ended_us", "progress", "instance_id", "instance_name", "entities",
                "fail_reason", "sub_tasks", "idempotency_key", "runnable", "run_at_us", "attempt",
                "max_attempts", "lease_owner", "lease_expires_us", "cancel_requested", "params", "scheduled",
            }
        ),
        "job_events": frozenset({"seq", "job_id", "from_status", "to_status", "at_us", "detail"}),
        "leaders": frozenset({"name", "owner", "expires_us"}),
        "instances": frozenset(
            {"id", "project_id", "name", "status", "flavor_ref", "port", "request", "created_us",
             "updated_us"}
        ),
        "job_names": frozenset({"project_id", "name"}),
        "backups": frozenset(
            {"id", "project_id", "instance_id", "name", "description", "status", "size_bytes", "begin_us",
             "end_us"}
        ),
        "schema_migrations": frozenset({"version", "name"}),
    },
    "postgres": {
        "projects": frozenset({"id", "name", "created_at"}),
        "users": frozenset({"id", "name", "project_id", "password_hash", "is_admin", "created_at"}),
        "access_keys": frozenset({"access_key", "secret_key", "user_id", "created_at"}),
        "tokens": frozenset({"token_hash", "user_id", "project_id", "issued_at", "expires_at"}),
        "jobs": frozenset(
            {
                "seq", "id", "project_id", "name", "status", "created_at", "started_at",
                "ended_at", "progress", "instance_id", "instance_name", "entities",
                "fail_reason", "sub_tasks", "idempotency_key", "runnable", "run_at", "attempt",
                "max_attempts", "lease_owner", "lease_expires", "cancel_requested", "params", "scheduled",
            }
        ),
        "job_events": frozenset({"seq", "job_id", "from_status", "to_status", "at", "detail"}),
        "leaders": frozenset({"name", "owner", "expires"}),
        "instances": frozenset(
            {"id", "project_id", "name", "status", "flavor_ref", "port", "request", "created_at",
             "updated_at"}
        ),
        "job_names": frozenset({"project_id", "name"}),
        "backups": frozenset(
            {"id", "project_id", "instance_id", "name", "description", "status", "size_bytes", "begin_at",
             "end_at"}
        ),
        "schema_migrations": frozenset({"version", "name"}),
    },
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this code expects."""


def migrations(dialect: str) -> list[Migration]:
    folder = resources.files("taskcenter.storage") / "migrations" / dialect
    found = []
    for entry in folder.iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{dialect} migrations must be numbered 1..n without gaps: {versions}")
    return found


def check_schema(dialect: str, actual: dict[str, set[str]], applied: list[int]) -> None:
    known = [m.version for m in migrations(dialect)]
    newer = sorted(set(applied) - set(known))
    if newer:
        raise SchemaMismatch(
            f"the database has migrations {newer} that this taskcenter does not know: "
            f"it was written by a newer version; upgrade taskcenter"
        )
    for table, columns in EXPECTED_TABLES[dialect].items():
        missing = columns - actual.get(table, set())
        if missing:
            raise SchemaMismatch(f"table {table} lacks columns {sorted(missing)}")
