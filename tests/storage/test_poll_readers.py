"""The poll readers: what the stores rely on them for, from the C readers and their Python twin.

Every test runs on both implementations (the C ones skipped only where the extension is not built);
tests/storage/test_poll_readers_alike.py compares their outputs directly.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from taskcenter.domain.job import JobPatch, NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.ports import Store
from taskcenter.storage.columns import to_us
from taskcenter.storage.polls.readers import PollReader, Readers
from taskcenter.storage.postgres.store import PostgresStore
from taskcenter.storage.sqlite.store import SqliteStore
from tests.storage import poll_implementations
from tests.storage.contract import LONG_AGO, T0

# The shown columns (id, name, status, created, ended, progress, instance id and name, entities,
# fail_reason) of a table of names; each answer's job name tells what the reader ran.
SQLITE_QUERY = (
    "SELECT id, name || ':' || ?2, 'Pending', 0, NULL, 0, NULL, NULL, '{}', '' FROM t WHERE id = ?1"
)
# As the PostgreSQL store's batch statement: rows of (lookup index, shown columns) for the arrays
# of the lookups' (job id, project, visible since). The name shows the project and the
# connection; "created" shows the time; a project named "boom" fails the statement.
PG_QUERY = """SELECT (k.i - 1)::int, t.id::text,
    t.name || ':' || k.project_id || ':' || current_setting('application_name'), 'Pending',
    k.since, NULL::timestamptz, 0::int2, NULL, NULL, '{}'::json, ''
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(id, project_id, since, i)
JOIN t ON t.id = k.id
WHERE 1 / (k.project_id <> 'boom')::int = 1"""
A, B = "a9767ede-fe0f-4888-9003-e843a4c90514", "0c4b6b5e-1f0a-4d8e-9b1e-2f3a4b5c6d7e"
T0_US = to_us(T0)
Finished = list[tuple[int, list[str | None] | str]]


@pytest.fixture(autouse=True, params=poll_implementations.NAMES)
def readers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Readers:
    """Each test on each implementation; the stores it opens use that one too."""
    return poll_implementations.use(request.param, monkeypatch)


def _wait(reader: PollReader, batches: int = 1) -> Finished:
    """The finished batches, each answer shown by its job's name."""
    finished: Finished = []
    while len(finished) < batches:
        readable, _, _ = select.select([reader.fileno()], [], [], 10)
        assert readable, "the reader did not signal that a batch finished"
        finished += _named(reader.collect())
    return finished


def _named(collected: list[tuple[int, list[bytes | None] | str]]) -> Finished:
    return [
        (number, answers if isinstance(answers, str) else [_name(answer) for answer in answers])
        for number, answers in collected
    ]


def _name(answer: bytes | None) -> str | None:
    if answer is None:
        return None
    name: str = orjson.loads(answer)["job"]["name"]
    return name


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


@pytest.fixture
def pg_table(pg_url: str) -> str:
    async def create() -> None:
        conn = await asyncpg.connect(pg_url)
        await conn.execute("CREATE TABLE t (id uuid PRIMARY KEY, name text)")
        await conn.executemany("INSERT INTO t VALUES ($1, $2)", [(A, "first"), (B, '数据库 "x"\n')])
        await conn.close()

    asyncio.run(create())
    return pg_url


def test_sqlite_answers_each_lookup_in_order_with_text_and_integer_parameters(
    database: Path, readers: Readers
) -> None:
    reader = readers.sqlite(str(database), "PRAGMA cache_size=-1024;", SQLITE_QUERY)
    try:
        first = reader.submit([("b", 1), ("zz", 2), ("a", "two"), ("c", 3)])
        # "c" has a row whose name is NULL, shown as "" as the wire shows absent texts.
        assert _wait(reader) == [(first, ['数据库 "x"\n:1', None, "first:two", ""])]
        empty = reader.submit([])
        extreme = reader.submit([("a", -(2**63))])
        assert _wait(reader, 2) == [(empty, []), (extreme, [f"first:{-(2**63)}"])]
    finally:
        reader.close()


def test_sqlite_refuses_what_it_cannot_bind(database: Path, readers: Readers) -> None:
    reader = readers.sqlite(str(database), "", SQLITE_QUERY)
    try:
        with pytest.raises(TypeError, match="list of tuples"):
            reader.submit(1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="tuple of 2"):
            reader.submit([("a",)])
        with pytest.raises(TypeError, match="tuple of 2"):
            reader.submit([["a", 1]])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="str or int"):
            reader.submit([("a", 1.5)])  # type: ignore[list-item]
        with pytest.raises(OverflowError):
            reader.submit([("a", 2**64)])
        with pytest.raises(OverflowError):
            reader.submit([("a", 2**63)])
        with pytest.raises(UnicodeEncodeError):
            reader.submit([("a", "\ud800")])
        ok = reader.submit([("a", 1)])
        assert _wait(reader) == [(ok, ["first:1"])]  # nothing half-submitted before it
    finally:
        reader.close()


def test_sqlite_bad_query_or_database_fails_at_once(database: Path, tmp_path: Path, readers: Readers) -> None:
    with pytest.raises(RuntimeError, match=r"^SQLite reader: no such table: nowhere$"):
        readers.sqlite(str(database), "", "SELECT 1 FROM nowhere WHERE ?1")
    with pytest.raises(RuntimeError, match=r"^SQLite reader: unable to open database file$"):
        readers.sqlite(str(tmp_path / "missing" / "x.db"), "", SQLITE_QUERY)
    with pytest.raises(RuntimeError, match=r'^SQLite reader: near "SELEC": syntax error$'):
        readers.sqlite(str(database), "", "SELEC 1")


def test_sqlite_reads_but_never_writes(database: Path, readers: Readers) -> None:
    """The reader's connection is read-only: a statement that would write fails its batch."""
    reader = readers.sqlite(
        str(database),
        "",
        "DELETE FROM t WHERE id = ?1 RETURNING id, name, '', 0, NULL, 0, NULL, NULL, '', ''",
    )
    try:
        number = reader.submit([("a",)])
        assert _wait(reader) == [(number, "attempt to write a readonly database")]
    finally:
        reader.close()


def test_close_answers_what_was_submitted_and_then_refuses(database: Path, readers: Readers) -> None:
    reader = readers.sqlite(str(database), "", SQLITE_QUERY)
    numbers = [reader.submit([("a", n)]) for n in range(50)]
    reader.close()
    assert _named(reader.collect()) == [(number, [f"first:{n}"]) for n, number in enumerate(numbers)]
    with pytest.raises(ValueError, match="closed"):
        reader.submit([("a", 1)])
    with pytest.raises(ValueError, match="closed"):
        reader.fileno()
    reader.close()  # twice is harmless


def test_postgres_answers_each_lookup_by_its_index_on_several_connections(
    pg_table: str, readers: Readers
) -> None:
    reader = readers.postgres(pg_table, "SET application_name = 'tc'", PG_QUERY, 3)
    unknown = "00000000-0000-4000-8000-000000000000"
    try:
        numbers = {
            reader.submit(
                [(B, "p1", T0_US), ("not-a-uuid", "p1", T0_US), (A, "p2", T0_US), (unknown, "p", 0)]
            ): [
                '数据库 "x"\n:p1:tc',
                None,  # an id that is no UUID finds nothing, like an unknown one
                "first:p2:tc",
                None,
            ]
            for _ in range(30)
        }
        finished = _wait(reader, 30)
        assert sorted(finished) == sorted(numbers.items())
        upper = reader.submit([(A.upper(), "p", T0_US)])
        [(number, answers)] = reader_answers(reader)
        assert not isinstance(answers, str), answers
        [answer] = answers
        assert number == upper and answer is not None
        # The time parameter arrives as the same instant, to the microsecond's second.
        assert orjson.loads(answer)["job"]["created"] == "2026-11-01T12:00:00+0000"
        with pytest.raises(TypeError, match="tuple of 3"):
            reader.submit([(A, "p")])
    finally:
        reader.close()


def reader_answers(reader: PollReader) -> list[tuple[int, list[bytes | None] | str]]:
    """The next finished batch, its answers as the reader gave them."""
    readable, _, _ = select.select([reader.fileno()], [], [], 10)
    assert readable, "the reader did not signal that a batch finished"
    return reader.collect()


def test_postgres_failures_fail_their_batch_and_the_reader_recovers(pg_table: str, readers: Readers) -> None:
    reader = readers.postgres(pg_table, "", PG_QUERY, 1)
    try:
        bad = reader.submit([(A, "boom", T0_US)])
        [(number, answers)] = _wait(reader)
        assert number == bad and isinstance(answers, str) and "division by zero" in answers
        good = reader.submit([(A, "p", T0_US)])
        assert _wait(reader) == [(good, ["first:p:taskcenter-polls"])]

        async def kill_backends() -> None:
            conn = await asyncpg.connect(pg_table)
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'taskcenter-polls' AND datname = current_database()"
            )
            await conn.close()

        asyncio.run(kill_backends())
        # A connection that died while idle is replaced within the batch: no poll fails for it.
        for _ in range(3):
            reader.submit([(A, "p", T0_US)])
            assert [answers for _, answers in _wait(reader)] == [["first:p:taskcenter-polls"]]
    finally:
        reader.close()


def test_postgres_batches_queued_behind_a_failed_one_fail_with_it_unrun(
    pg_table: str, readers: Readers
) -> None:
    """A lock held on the table makes the first batch wait out its statement timeout; the batches
    queued behind it fail then too, rather than wait out a timeout each."""

    async def scenario() -> None:
        locker = await asyncpg.connect(pg_table)
        try:
            reader = readers.postgres(pg_table, "SET statement_timeout = '300ms'", PG_QUERY, 1)
            try:
                warm = reader.submit([(A, "p", T0_US)])  # connected before the lock is taken
                assert await asyncio.to_thread(_wait, reader) == [(warm, ["first:p:taskcenter-polls"])]
                async with locker.transaction():
                    await locker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                    first = reader.submit([(A, "p", T0_US)])
                    queued = [reader.submit([(B, "p", T0_US)]) for _ in range(3)]
                    finished = dict(await asyncio.to_thread(_wait, reader, 4))
                failed = finished[first]
                assert isinstance(failed, str) and "statement timeout" in failed
                for number in queued:
                    assert finished[number] == "not run, an earlier batch failed: " + failed
                # Batches submitted after the failure run as usual.
                after = reader.submit([(A, "p", T0_US)])
                assert await asyncio.to_thread(_wait, reader) == [(after, ["first:p:taskcenter-polls"])]
            finally:
                reader.close()
        finally:
            await locker.close()

    asyncio.run(scenario())


def test_postgres_unreachable_database_fails_batches_not_the_reader(readers: Readers) -> None:
    reader = readers.postgres("postgresql://nobody@127.0.0.1:1/none", "", PG_QUERY, 1)
    try:
        empty = reader.submit([])  # asks the database nothing
        assert _wait(reader) == [(empty, [])]
        reader.submit([(A, "p", T0_US)])
        [(_, answers)] = _wait(reader)
        assert isinstance(answers, str) and "127.0.0.1" in answers
    finally:
        reader.close()


async def test_sqlite_polls_hold_no_read_transaction_that_blocks_checkpoints(tmp_path: Path) -> None:
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


async def test_polls_in_flight_when_the_store_closes_are_answered_or_refused(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    job, _ = await store.create_job(NewJob("p1", "Job"), T0)
    polls = [asyncio.ensure_future(store.show_job("p1", job.id, LONG_AGO)) for _ in range(20)]
    await asyncio.sleep(0)
    await store.close()
    answered = 0
    for poll in polls:  # never left hanging
        try:
            body = await asyncio.wait_for(poll, 5)
        except RuntimeError as exc:
            assert "closed" in str(exc)
        else:
            assert body is not None
            answered += 1
    assert answered >= 1  # the batch handed to the reader before the close


async def test_polls_of_one_iteration_leave_at_once_in_small_batches(store: Store) -> None:
    """The polls of an iteration leave together, in batches of eight, so the first answers come
    back while the reader works on the rest; on both stores."""
    job, _ = await store.create_job(NewJob("p1", "Job"), T0)
    other, _ = await store.create_job(NewJob("p1", "Other"), T0)
    sizes = _count_batches(store)
    ids = [(job if i % 2 else other).id for i in range(18)]
    polls = [asyncio.ensure_future(store.show_job("p1", job_id, LONG_AGO)) for job_id in ids]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sizes == [8, 8, 2]  # all handed over before any answer came back
    # Polls made while those batches are out leave at once too, not after them.
    ids += [job.id] * 3
    polls += [asyncio.ensure_future(store.show_job("p1", job.id, LONG_AGO)) for _ in range(3)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sizes == [8, 8, 2, 3]
    bodies = await asyncio.gather(*polls)
    names = [orjson.loads(body)["job"]["name"] for body in bodies if body is not None]
    assert names == ["Other", "Job"] * 9 + ["Job"] * 3  # each poll its own answer, across batches


async def test_batches_failing_together_fail_every_poll_and_log_one_line(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch stuck on a lock is cancelled: it and the batches queued behind it fail their
    polls at once, and an outage writes one log line for them, not one per batch."""
    store = await PostgresStore.open(pg_url)
    locker = await asyncpg.connect(pg_url)
    try:
        job, _ = await store.create_job(NewJob("p1", "Job"), T0)
        assert await store.show_job("p1", job.id, LONG_AGO) is not None  # the reader is connected
        async with locker.transaction():
            await locker.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
            polls = [asyncio.ensure_future(store.show_job("p1", job.id, LONG_AGO)) for _ in range(24)]
            waiting = (
                "SELECT pid FROM pg_stat_activity "
                "WHERE application_name = 'taskcenter-polls' AND wait_event_type = 'Lock'"
            )
            for _ in range(100):
                if pid := await locker.fetchval(waiting):
                    break
                await asyncio.sleep(0.05)
            assert pid, "the first batch never waited on the lock"
            with caplog.at_level(logging.ERROR, logger="taskcenter.storage"):
                await locker.execute("SELECT pg_cancel_backend($1)", pid)
                results = await asyncio.gather(*polls, return_exceptions=True)
        assert all(isinstance(r, RuntimeError) and "canceling statement" in str(r) for r in results[:8])
        assert all(
            isinstance(r, RuntimeError) and "not run, an earlier batch failed" in str(r) for r in results[8:]
        )
        [record] = [r for r in caplog.records if r.name == "taskcenter.storage"]
        assert "(3 batches)" in record.getMessage() and "canceling statement" in record.getMessage()
        assert await store.show_job("p1", job.id, LONG_AGO) is not None  # and the next polls work
    finally:
        await locker.close()
        await store.close()


def _count_batches(store: Store) -> list[int]:
    """The sizes of the batches the store's poll reader is handed from now on."""
    polls = store._polls  # type: ignore[attr-defined]
    sizes: list[int] = []
    reader: PollReader = polls._reader

    def submit(lookups: list[Any]) -> int:
        sizes.append(len(lookups))
        return reader.submit(lookups)

    polls._reader = _Wrapped(reader, submit=submit)
    return sizes


@pytest.mark.parametrize("step", ["submit", "collect"])
async def test_polls_of_a_lost_batch_fail_and_the_next_ones_run(tmp_path: Path, step: str) -> None:
    """A batch the reader refuses, or a finished one lost as it is collected (out of memory, say),
    fails its polls rather than leaving them waiting forever; the polls after it are answered."""
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    try:
        job, _ = await store.create_job(NewJob("p1", "Job"), T0)
        polls = store._polls
        reader = polls._reader
        failures = [MemoryError()]

        def submit(lookups: list[Any]) -> int:
            if failures:
                raise failures.pop()
            return reader.submit(lookups)

        def collect() -> list[Any]:
            finished = reader.collect()
            if failures and finished:
                raise failures.pop()  # what was finished is gone, as in the C reader
            return finished

        polls._reader = _Wrapped(reader, **{step: {"submit": submit, "collect": collect}[step]})
        with pytest.raises(MemoryError):
            await asyncio.wait_for(store.show_job("p1", job.id, LONG_AGO), 5)
        body = await asyncio.wait_for(store.show_job("p1", job.id, LONG_AGO), 5)
        assert body is not None and orjson.loads(body)["job"]["id"] == job.id
    finally:
        await store.close()


class _Wrapped:
    """A store's reader with some of its methods replaced."""

    def __init__(self, reader: PollReader, **methods: Any) -> None:
        self._reader = reader
        self.__dict__.update(methods)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def _longest_pause(since: float, seconds: float) -> float:
    """Runs Python on this thread until ``seconds`` after ``since`` (a time.monotonic() before the
    reader was handed its work): the longest it waited for its turn (the GIL), from ``since``."""
    started = last = since
    longest = 0.0
    while last - started < seconds:
        sum(range(10_000))
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    return longest


def test_sqlite_lookups_leave_the_other_threads_running(database: Path, readers: Readers) -> None:
    """A lookup that takes its time (here a statement counting to some millions first) holds up no
    other thread: the event loop's keeps running while SQLite works."""
    slow = SQLITE_QUERY.replace(
        "FROM t WHERE",
        "FROM t, (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000)"
        " SELECT max(n) FROM c) WHERE",
    )
    reader = readers.sqlite(str(database), "", slow)
    try:
        started = time.monotonic()
        number = reader.submit([("a", 1)])
        pause = _longest_pause(started, 0.5)
        assert _wait(reader) == [(number, ["first:1"])]
        took = time.monotonic() - started
        assert took > 0.6, "the lookup was too quick to show anything"
        assert pause < 0.3, f"this thread was held up {pause:.2f} s of the lookup's {took:.2f} s"
    finally:
        reader.close()


def test_postgres_connecting_leaves_the_other_threads_running(readers: Readers) -> None:
    """A connection that takes its time (here a server that accepts and says nothing for a while)
    holds up no other thread: the event loop's keeps running."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        reader = readers.postgres(f"postgresql://nobody@127.0.0.1:{port}/none", "", PG_QUERY, 1)
        try:
            started = time.monotonic()
            reader.submit([(A, "p", T0_US)])
            silent, _ = server.accept()
            pause = _longest_pause(started, 1.5)
            silent.close()
            [(_, answers)] = _wait(reader)
            assert isinstance(answers, str) and "closed the connection" in answers
            assert pause < 0.5, f"this thread was held up {pause:.2f} s"
        finally:
            reader.close()
