"""The SQLite file: its connections, transactions and migrations.

No call waits on the event loop's thread. Writes run on one dedicated thread with their own
connection, so a commit's fsync never stalls the event loop, and SQLite's single writer is
honoured by construction. Reads run on a reader thread with its own connection, each in one read
transaction (one snapshot for all its statements): a list over a project of 500,000 jobs took
56-77 ms on the event loop, stalling every poll meanwhile (bench/polls_during_lists.py). SQLite
releases the GIL while it steps, so the event loop serves requests while a read runs. The polls
have readers of their own (storage/polls).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from taskcenter.storage import sql
from taskcenter.storage.migrations import Migration, Schema, check_schema, migrations

T = TypeVar("T")
SQL = sql.load(__name__)
READ_SETTINGS = SQL["read_settings"]


class SqliteDatabase:
    """One file: a writer connection on its own thread, and a reader connection."""

    def __init__(self, path: Path, reader: sqlite3.Connection, writer: sqlite3.Connection) -> None:
        self.path = path
        self._reader = reader
        self._writer = writer
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._reads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        # SQLite's counterpart of PostgreSQL's NOTIFY: this process is the file's only user.
        self.listeners: list[Callable[[], None]] = []

    @classmethod
    def open(cls, path: Path) -> SqliteDatabase:
        """The file's connections, after migrating it (created if need be)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = _connect(path)
        try:
            migrate(writer)
            reader = _connect(path)
        except BaseException:
            writer.close()
            raise
        return cls(path, reader, writer)

    async def close(self) -> None:
        await self.write(lambda c: None)
        self._writes.shutdown(wait=True)
        self._reads.shutdown(wait=True)
        self._reader.close()
        self._writer.close()

    def announce(self) -> None:
        """Tell the listeners that a job run by workers may have become due."""
        for callback in list(self.listeners):
            callback()

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one IMMEDIATE transaction on the writer thread."""

        def run() -> T:
            return _transaction(self._writer, SQL["begin_write"], fn)

        return await asyncio.get_running_loop().run_in_executor(self._writes, run)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one read transaction on the reader thread."""

        def run() -> T:
            return _transaction(self._reader, SQL["begin_read"], fn)

        return await asyncio.get_running_loop().run_in_executor(self._reads, run)


def _transaction(conn: sqlite3.Connection, begin: str, fn: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute(begin)
    try:
        result = fn(conn)
    except BaseException:
        conn.execute(SQL["rollback"])
        raise
    conn.execute(SQL["commit"])
    return result


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.executescript(SQL["connection_settings"])
    conn.executescript(READ_SETTINGS)
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this file lacks, then refuse it unless its schema is theirs."""

    def run(conn: sqlite3.Connection) -> None:
        conn.execute(SQL["migrations_table"])
        applied = {v for (v,) in conn.execute(SQL["migrations_applied"])}
        for migration in migrations("sqlite"):
            if migration.version not in applied:
                _apply(conn, migration)
                applied.add(migration.version)
        check_schema("sqlite", schema_of(conn), expected_schema(), sorted(applied))

    _transaction(conn, SQL["begin_write"], run)


@functools.cache
def expected_schema() -> Schema:
    """The schema the migrations make, made in memory (once: they are the same all along)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute(SQL["migrations_table"])
        for migration in migrations("sqlite"):
            _apply(conn, migration)
        return schema_of(conn)
    finally:
        conn.close()


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    # executescript would COMMIT the open transaction; the statements run one by one.
    for statement in _statements(migration.sql):
        conn.execute(statement)
    conn.execute(SQL["migration_record"], (migration.version, migration.name))


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise RuntimeError(f"incomplete SQL statement in migration: {buffer[:80]!r}")
    return statements


def schema_of(conn: sqlite3.Connection) -> Schema:
    schema: Schema = {}
    for table, column, kind in conn.execute(SQL["schema_columns"]):
        schema.setdefault(table, {})[column] = kind
    return schema
