"""The schema is what the migrations make: fresh or upgraded from any earlier version, on both
engines; the two engines name their tables and columns alike; and a store whose schema drifted
from the migrations' is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from taskcenter.storage.migrations import SchemaMismatch, migrations
from taskcenter.storage.postgres import database as pg_database
from taskcenter.storage.postgres.store import PostgresStore
from taskcenter.storage.sqlite import database as sqlite_database
from taskcenter.storage.sqlite.store import SqliteStore

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
EARLIER = [m.version for m in migrations("sqlite")][:-1]
JOB = "a9767ede-fe0f-4888-9003-e843a4c90514"
ENTITIES = '{"zeta": {"b": [1, 2]}, "alpha": "数据库"}'


def sqlite_definitions(path: Path) -> list[tuple[str, str, str, str | None]]:
    """Every table, index and trigger as SQLite keeps its definition."""
    conn = sqlite3.connect(path)
    try:
        found: list[tuple[str, str, str, str | None]] = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        return found
    finally:
        conn.close()


async def pg_definitions(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every column (type, default, nullability), index and constraint of the store's schema."""
    conn = await asyncpg.connect(url)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name, ordinal_position, data_type, column_default, is_nullable "
            "FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 3"
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
        )
        constraints = await conn.fetch(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2"
        )
        return {
            "columns": [tuple(r) for r in columns],
            "indexes": [tuple(r) for r in indexes],
            "constraints": [tuple(r) for r in constraints],
        }
    finally:
        await conn.close()


async def test_sqlite_empty_database_migrates_once_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    await (await SqliteStore.open(path)).close()
    conn = sqlite3.connect(path)
    versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in migrations("sqlite")]
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    # Opening again applies nothing twice.
    await (await SqliteStore.open(path)).close()


async def test_postgres_empty_database_migrates_once_and_leaves_no_scratch_schema(pg_url: str) -> None:
    await (await PostgresStore.open(pg_url)).close()
    await (await PostgresStore.open(pg_url)).close()
    conn = await asyncpg.connect(pg_url)
    try:
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == [m.version for m in migrations("postgres")]
        schemas = {r[0] for r in await conn.fetch("SELECT nspname FROM pg_namespace")}
        assert not [s for s in schemas if "fresh" in s], "the scratch migration was not rolled back"
    finally:
        await conn.close()


def test_both_dialects_have_the_same_migrations() -> None:
    assert [(m.version, m.name) for m in migrations("sqlite")] == [
        (m.version, m.name) for m in migrations("postgres")
    ]


async def test_both_dialects_have_the_same_tables_and_column_names(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        postgres = await pg_database.expected_schema(conn)
    finally:
        await conn.close()
    sqlite = sqlite_database.expected_schema()
    assert {t: set(c) for t, c in sqlite.items()} == {t: set(c) for t, c in postgres.items()}
    assert "run_by_worker" in sqlite["jobs"] and "created_at" in sqlite["jobs"]


def sqlite_at(path: Path, version: int) -> None:
    """A SQLite file as taskcenter left it at ``version``, holding a job and its event."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    for migration in migrations("sqlite")[:version]:
        conn.executescript(migration.sql)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (migration.version, migration.name))
    # Times' columns took PostgreSQL's names in 0004.
    created, at = ("created_us", "at_us") if version < 4 else ("created_at", "at")
    conn.execute(
        f"INSERT INTO jobs (id, project_id, name, status, {created}, entities) "
        "VALUES (?, 'p1', 'Old', 'Running', 1700000000000000, ?)",
        (JOB, ENTITIES),
    )
    conn.execute(
        f"INSERT INTO job_events (job_id, to_status, {at}) VALUES (?, 'Running', 1700000000000000)", (JOB,)
    )
    conn.close()


@pytest.mark.parametrize("version", EARLIER)
async def test_sqlite_upgraded_from_an_earlier_version_equals_a_fresh_migrate(
    tmp_path: Path, version: int
) -> None:
    fresh, old = tmp_path / "fresh.db", tmp_path / "old.db"
    await (await SqliteStore.open(fresh)).close()
    sqlite_at(old, version)
    store = await SqliteStore.open(old)
    try:
        job = await store.get_job("p1", JOB, LONG_AGO)
        assert job is not None and job.name == "Old"
        assert job.created == datetime.fromtimestamp(1_700_000_000, UTC)
        assert list(job.entities) == ["zeta", "alpha"]  # SQLite kept the text as it was written
        assert [e.to_status.value for e in await store.job_events(JOB)] == ["Running"]
    finally:
        await store.close()
    assert sqlite_definitions(old) == sqlite_definitions(fresh)


async def pg_at(url: str, version: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        for migration in migrations("postgres")[:version]:
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2)", migration.version, migration.name
            )
        await conn.execute(
            "INSERT INTO jobs (id, project_id, name, status, created_at, entities) "
            "VALUES ($1, 'p1', 'Old', 'Running', to_timestamp(1700000000), $2::jsonb)",
            JOB,
            ENTITIES,
        )
        await conn.execute(
            "INSERT INTO job_events (job_id, to_status, at) VALUES ($1, 'Running', now())", JOB
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("version", EARLIER)
async def test_postgres_upgraded_from_an_earlier_version_equals_a_fresh_migrate(
    pg_url: str, version: int
) -> None:
    await pg_at(pg_url, version)
    store = await PostgresStore.open(pg_url)
    try:
        job = await store.get_job("p1", JOB, LONG_AGO)
        assert job is not None and job.name == "Old"
        assert job.entities == {"zeta": {"b": [1, 2]}, "alpha": "数据库"}
        body = await store.show_job("p1", JOB, LONG_AGO)
        assert body is not None and b'"entities":{' in body  # json's text, not jsonb's binary form
        assert [e.to_status.value for e in await store.job_events(JOB)] == ["Running"]
    finally:
        await store.close()
    upgraded = await pg_definitions(pg_url)
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    await (await PostgresStore.open(pg_url)).close()
    assert upgraded == await pg_definitions(pg_url)


async def test_database_from_a_newer_taskcenter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    await (await SqliteStore.open(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'from_the_future')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaMismatch, match="newer version"):
        await SqliteStore.open(path)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ("ALTER TABLE jobs DROP COLUMN fail_reason", r"table jobs lacks columns \['fail_reason'\]"),
        (
            "ALTER TABLE jobs ADD COLUMN color TEXT",
            r"table jobs has columns the migrations do not make: \['color'\]",
        ),
        ("ALTER TABLE jobs RENAME COLUMN run_by_worker TO runnable", "lacks columns"),
        ("DROP TABLE job_names", "table job_names is missing"),
    ],
)
async def test_a_drifted_sqlite_store_is_refused(tmp_path: Path, change: str, refusal: str) -> None:
    path = tmp_path / "t.db"
    await (await SqliteStore.open(path)).close()
    conn = sqlite3.connect(path)
    conn.execute(change)
    conn.commit()
    conn.close()
    with pytest.raises(SchemaMismatch, match=refusal):
        await SqliteStore.open(path)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        # What the poll readers would misread: jsonb's binary form is not its text.
        (
            "ALTER TABLE jobs ALTER COLUMN entities DROP DEFAULT, "
            "ALTER COLUMN entities TYPE jsonb USING entities::jsonb",
            "jobs.entities is jsonb, the migrations make json",
        ),
        ("ALTER TABLE leaders DROP COLUMN expires", r"table leaders lacks columns \['expires'\]"),
    ],
)
async def test_a_drifted_postgres_store_is_refused(pg_url: str, change: str, refusal: str) -> None:
    await (await PostgresStore.open(pg_url)).close()
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(change)
    finally:
        await conn.close()
    with pytest.raises(SchemaMismatch, match=refusal):
        await PostgresStore.open(pg_url)


async def test_events_are_append_only(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "t.db"
    await (await SqliteStore.open(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO job_events (job_id, to_status, at) VALUES ('j', 'Running', 1)")
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


async def test_schema_rejects_a_final_job_without_end_time(tmp_path: Path, pg_url: str) -> None:
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
    path = tmp_path / "t.db"
    await (await SqliteStore.open(path)).close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(
            "INSERT INTO jobs (id, project_id, name, status, created_at) "
            "VALUES ('j', 'p', 'n', 'Completed', 1)"
        )
    conn.close()
