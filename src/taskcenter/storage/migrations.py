"""Versioned schema migrations: numbered .sql files per dialect, applied in order at start.

Hand-written rather than Alembic because the store is hand-written SQL per dialect (no ORM
models for Alembic to diff); the runner is a loop over files plus a version table.

The schema the code expects is the one the migrations make, and nothing else says what it is:
at start each dialect migrates a scratch database (SQLite in memory, a scratch schema rolled
back on PostgreSQL) and check_schema compares the store's tables with it, so a store whose
schema drifted (a column dropped, renamed or of another type) is refused instead of misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

# table -> column -> its type, as the dialect names it
Schema = dict[str, dict[str, str]]


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


def check_schema(dialect: str, actual: Schema, expected: Schema, applied: list[int]) -> None:
    """Refuse a store written by a newer taskcenter, or whose tables differ from ``expected``
    (what a fresh migration makes). Tables of its own that the migrations do not make are left
    alone."""
    known = [m.version for m in migrations(dialect)]
    newer = sorted(set(applied) - set(known))
    if newer:
        raise SchemaMismatch(
            f"the database has migrations {newer} that this taskcenter does not know: "
            f"it was written by a newer version; upgrade taskcenter"
        )
    problems = []
    for table, columns in sorted(expected.items()):
        have = actual.get(table)
        if have is None:
            problems.append(f"table {table} is missing")
            continue
        missing = sorted(columns.keys() - have.keys())
        unexpected = sorted(have.keys() - columns.keys())
        if missing:
            problems.append(f"table {table} lacks columns {missing}")
        if unexpected:
            problems.append(f"table {table} has columns the migrations do not make: {unexpected}")
        for column in sorted(columns.keys() & have.keys()):
            if have[column] != columns[column]:
                problems.append(f"{table}.{column} is {have[column]}, the migrations make {columns[column]}")
    if problems:
        raise SchemaMismatch(
            "the database's schema is not the one its migrations make (was it changed by hand?): "
            + "; ".join(problems)
        )
