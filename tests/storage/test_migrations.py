"""Migrating an empty database gives exactly the schema the code expects, on both engines."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from taskcenter.storage.migrations import EXPECTED_TABLES, SchemaMismatch, migrations
from taskcenter.storage.postgres import PostgresStore, schema_of
from taskcenter.storage.sqlite import SqliteStore
from taskcenter.storage.sqlite import schema_of as sqlite_schema_of


def expected(dialect: str) -> dict[str, set[str]]:
    return {table: set(columns) for table, columns in EXPECTED_TABLES[dialect].items()}


async def test_sqlite_empty_database_migrates_to_expected_schema(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = await SqliteStore.open(path)
    await store.close()
    conn = sqlite3.connect(path)
    assert sqlite_schema_of(conn) == expected("sqlite")
    versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in migrations("sqlite")]
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    # Opening again applies nothing twice.
    await (await SqliteStore.open(path)).close()


async def test_postgres_empty_database_migrates_to_expected_schema(pg_url: str) -> None:
    await (await PostgresStore.open(pg_url)).close()
    await (await PostgresStore.open(pg_url)).close()
    conn = await asyncpg.connect(pg_url)
    try:
        assert await schema_of(conn) == expected("postgres")
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == [m.version for m in migrations("postgres")]
    finally:
        await conn.close()


def test_both_dialects_have_the_same_migrations() -> None:
    assert [(m.version, m.name) for m in migrations("sqlite")] == [
        (m.version, m.name) for m in migrations("postgres")
    ]


async def test_database_from_a_newer_taskcenter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    await (await SqliteStore.open(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'from_the_future')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaMismatch, match="newer version"):
        await SqliteStore.open(path)


async def test_events_are_append_only(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "t.db"
    await (await SqliteStore.open(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO job_events (job_id, to_status, at_us) VALUES ('j', 'Running', 1)")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE job_events SET to_status = 'Completed'")
    conn.close()
    await (await PostgresStore.open(pg_url)).close()
    pg = await asyncpg.connect(pg_url)
    try:
        await pg.execute(
            "INSERT INTO job_events (job_id, to_status, at) "
            "VALUES ('00000000-0000-4000-8000-000000000000', 'Running', now())"
        )
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await pg.execute("UPDATE job_events SET to_status = 'Completed'")
    finally:
        await pg.close()


async def test_schema_rejects_a_final_job_without_end_time(pg_url: str) -> None:
    await (await PostgresStore.open(pg_url)).close()
    pg = await asyncpg.connect(pg_url)
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await pg.execute(
                "INSERT INTO jobs (id, project_id, name, status, created_at) "
                "VALUES ('00000000-0000-4000-8000-000000000000', 'p', 'n', 'Completed', now())"
            )
    finally:
        await pg.close()
