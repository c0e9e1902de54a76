"""The SQLite poll reader (C, its own thread, no GIL): what the SQLite store relies on it for."""

from __future__ import annotations

import asyncio
import select
import sqlite3
from pathlib import Path

import orjson
import pytest

from taskcenter.domain.job import JobPatch, NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.storage._sqlite_reader import Reader
from taskcenter.storage.sqlite import SqliteStore
from tests.storage.test_contract import LONG_AGO, T0

QUERY = "SELECT name || ':' || ?2 FROM t WHERE id = ?1"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "r.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [("a", "first"), ("b", '数据库 "x"\n'), ("c", None)])
    conn.commit()
    conn.close()
    return path


def _wait(reader: Reader) -> list[list[bytes | None] | str]:
    finished: list[list[bytes | None] | str] = []
    while not finished:
        readable, _, _ = select.select([reader.fileno()], [], [], 5)
        assert readable, "the reader did not signal its eventfd"
        finished = reader.collect()
    return finished


def test_answers_each_lookup_in_order_with_text_and_integer_parameters(database: Path) -> None:
    reader = Reader(str(database), "PRAGMA cache_size=-1024;", QUERY)
    try:
        reader.submit([("b", 1), ("zz", 2), ("a", "two"), ("c", 3)])
        # The row of "c" exists but its value is NULL: no answer, like no row.
        assert _wait(reader) == [['数据库 "x"\n:1'.encode(), None, b"first:two", None]]
        reader.submit([])
        reader.submit([("a", -(2**63))])
        finished = [*_wait(reader)]
        while len(finished) < 2:
            finished += _wait(reader)
        assert finished == [[], [f"first:{-(2**63)}".encode()]]
    finally:
        reader.close()


def test_refuses_what_it_cannot_bind(database: Path) -> None:
    reader = Reader(str(database), "", QUERY)
    try:
        with pytest.raises(TypeError, match="tuple of 2"):
            reader.submit([("a",)])
        with pytest.raises(TypeError, match="str or int"):
            reader.submit([("a", 1.5)])
        with pytest.raises(OverflowError):
            reader.submit([("a", 2**64)])
        assert reader.collect() == []  # nothing half-submitted
    finally:
        reader.close()


def test_a_bad_query_or_database_fails_at_once(database: Path, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no such table"):
        Reader(str(database), "", "SELECT 1 FROM nowhere WHERE ?1")
    with pytest.raises(RuntimeError, match="unable to open"):
        Reader(str(tmp_path / "missing" / "x.db"), "", QUERY)


def test_close_answers_what_was_submitted_and_then_refuses(database: Path) -> None:
    reader = Reader(str(database), "", QUERY)
    for _ in range(50):
        reader.submit([("a", 1)])
    reader.close()
    assert reader.collect() == [[b"first:1"]] * 50
    with pytest.raises(ValueError, match="closed"):
        reader.submit([("a", 1)])
    with pytest.raises(ValueError, match="closed"):
        reader.fileno()
    reader.close()  # twice is harmless


async def test_polls_hold_no_read_transaction_that_blocks_checkpoints(tmp_path: Path) -> None:
    """Every lookup ends its read transaction: a reader holding one would keep the WAL growing
    and hide later commits."""
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    try:
        job, _ = await store.create_job(NewJob("p1", "Job"), T0)
        assert await store.show_job("p1", job.id, LONG_AGO) is not None
        await store.update_job(job.id, JobPatch(progress=60), T0)
        shown = await store.show_job("p1", job.id, LONG_AGO)
        assert shown is not None and orjson.loads(shown)["job"]["process"] == "60%"
        raw = sqlite3.connect(tmp_path / "taskcenter.db", isolation_level=None)
        busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        raw.close()
        assert busy == 0
        await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), T0)
        shown = await store.show_job("p1", job.id, LONG_AGO)
        assert shown is not None and orjson.loads(shown)["job"]["status"] == "Completed"
    finally:
        await store.close()


async def test_polls_in_flight_when_the_store_closes_are_answered(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    job, _ = await store.create_job(NewJob("p1", "Job"), T0)
    polls = [asyncio.ensure_future(store.show_job("p1", job.id, LONG_AGO)) for _ in range(20)]
    await asyncio.sleep(0)
    await store.close()
    for poll in polls:
        # Answered from the reader, or refused as closed if it never reached it: never left hanging.
        try:
            body = await asyncio.wait_for(poll, 5)
        except RuntimeError as exc:
            assert "closed" in str(exc)
        else:
            assert body is not None
