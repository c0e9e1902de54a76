"""The C poll readers and their Python twin: chosen as asked, and answering alike, byte for byte.

test_poll_readers.py holds each to what the stores rely on; here the two are given the same odd
values and the same failures, and must give the same bytes and the same error strings.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import select
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import orjson
import pytest

from taskcenter.storage.polls import pure_readers
from taskcenter.storage.polls.readers import Collected, PollReader, Readers
from tests.storage.poll_implementations import NAMES, readers_named
from tests.storage.test_poll_readers import PG_QUERY, SQLITE_QUERY, T0_US, A

Lookups = Sequence[tuple[str | int, ...]]
INT64 = (-(2**63), 2**63 - 1)
# Texts with what JSON escapes, what it does not, and more than one byte of UTF-8.
CHARACTERS = 'ab "\\/\b\f\n\r\t\x01\x1f\x7f é数🐘\u2028'


def _each(reader: PollReader, batches: Sequence[Lookups]) -> Collected:
    """Each batch submitted once the one before it is collected: no batch is failed unrun
    behind another, which would make the outcome depend on timing."""
    collected: Collected = []
    for lookups in batches:
        reader.submit(lookups)
        finished: Collected = []
        while not finished:
            readable, _, _ = select.select([reader.fileno()], [], [], 30)
            assert readable, "the reader did not signal that a batch finished"
            finished = reader.collect()
        collected += finished
    return collected


def _both(open_reader: Callable[[Readers], PollReader], batches: Sequence[Lookups]) -> list[Collected]:
    outcomes = []
    for name in NAMES:
        reader = open_reader(readers_named(name))
        try:
            outcomes.append(_each(reader, batches))
        finally:
            reader.close()
    return outcomes


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(CHARACTERS) for _ in range(rng.randrange(0, 12)))


def _pick(rng: random.Random, values: list[str | int]) -> str | int:
    return rng.choice(values)


def _parameter(rng: random.Random) -> str | int:
    return _pick(
        rng,
        [
            _text(rng),
            rng.choice(
                ["Running", "Failed", "12abc", " 42 ", "-7.9e3", "0x10", "99999999999999999999999", "", "+5"]
            ),
            rng.randrange(-(2**63), 2**63),
            rng.choice([*INT64, 0, -1, 100, 2**31, -(2**31) - 1, 1_000_000, -999_999]),
            rng.randrange(-(10**15), 10**15),
        ],
    )


def _stored(rng: random.Random) -> object:
    """A value of any of SQLite's storage classes, some not of their column's kind."""
    return rng.choice(
        [
            None,
            _parameter(rng),
            rng.choice([1.5, -0.0, 1e20, 1e-7, 3.0, 1e300, -2.5e-300, 9.3e18, -9.3e18]),
            rng.randbytes(rng.randrange(0, 8)),  # not UTF-8, most of them
            _text(rng).encode(),
            b"Running",
            b"\x00{}\x00",
        ]
    )


def test_sqlite_readers_render_any_column_values_alike(tmp_path: Path) -> None:
    rng = random.Random(19)
    path = tmp_path / "twins.db"
    db = sqlite3.connect(path)
    # Columns of no type: each value keeps its storage class, as a hand edit of a file might leave.
    db.execute("CREATE TABLE odd (k INTEGER PRIMARY KEY, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9)")
    db.executemany("INSERT INTO odd VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(k, *(_stored(rng) for _ in range(10))) for k in range(400)])  # fmt: skip
    db.commit()
    db.close()
    stored_rows = [[(k,) for k in range(j, 400, 50)] + [(400 + j,)] for j in range(50)]
    parameters = [
        [tuple(_parameter(rng) for _ in range(10)) for _ in range(rng.randrange(0, 9))] for _ in range(60)
    ]

    def rows(readers: Readers) -> PollReader:
        return readers.sqlite(
            str(path), "", "SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 FROM odd WHERE k = ?1"
        )

    def echoed(readers: Readers) -> PollReader:
        return readers.sqlite(str(path), "", "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10")

    answered = {rows: 400, echoed: sum(len(lookups) for lookups in parameters)}
    for open_reader, batches in ((rows, stored_rows), (echoed, parameters)):
        c, python = _both(open_reader, batches)
        assert python == c
        assert sum(answer is not None for _, answers in c for answer in answers) == answered[open_reader]


def test_sqlite_readers_fail_alike(tmp_path: Path) -> None:
    path = tmp_path / "twins.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO t VALUES ('a', 'first')")

    outcomes = []
    for name in NAMES:
        reader = readers_named(name).sqlite(str(path), "", SQLITE_QUERY)
        db.execute("ALTER TABLE t RENAME TO t_away")  # the prepared statement's table goes away
        try:
            outcomes.append(_each(reader, [[("a", 1)], [("a", 2)]]))
        finally:
            db.execute("ALTER TABLE t_away RENAME TO t")
            reader.close()
    db.close()
    c, python = outcomes
    assert python == c == [(1, "no such table: t"), (2, "no such table: t")]


@pytest.fixture
def pg_twin(pg_url: str) -> tuple[str, list[str]]:
    """A table of jobs with odd values in every shown column; the URL and the jobs' ids."""
    rng = random.Random(23)
    times = [None, datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]

    def when() -> datetime | None:
        if rng.random() < 0.3:
            return rng.choice(times)
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            microseconds=rng.randrange(-6 * 10**16, 6 * 10**16)
        )

    def entities() -> str | None:
        value = {"note": _text(rng), "n": rng.choice([-1.5, 2**53, 0]), "deep": [{"x": [_text(rng), None]}]}
        return rng.choice([None, "{}", orjson.dumps(value).decode()])

    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(200)]

    def row(job_id: str) -> tuple[object, ...]:
        status = rng.choice(["Running", "Failed", "Completed", "", None])
        name, instance_id, instance_name, fail_reason = (rng.choice([None, _text(rng)]) for _ in range(4))
        texts = (name or "", instance_id, instance_name, fail_reason)
        return (uuid.UUID(job_id), *texts[:1], status, when(), when(), rng.randrange(-(2**15), 2**15),
                *texts[1:3], entities(), texts[3])  # fmt: skip

    rows = [row(job_id) for job_id in ids]

    async def create() -> None:
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute(
                "CREATE TABLE twin (id uuid PRIMARY KEY, name text, status text, created timestamptz,"
                " ended timestamptz, progress int2, instance_id text, instance_name text, entities json,"
                " fail_reason text)"
            )
            await conn.executemany("INSERT INTO twin VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", rows)
            # What no datetime holds: PostgreSQL's infinities and its earliest instant.
            await conn.execute(
                "UPDATE twin SET created = (ARRAY['infinity', '-infinity', '4714-11-24 00:00:00+00 BC'])"
                "[1 + n % 3]::timestamptz FROM (SELECT id, row_number() OVER () AS n FROM twin LIMIT 12) s"
                " WHERE twin.id = s.id"
            )
            await conn.execute(
                "UPDATE twin SET ended = NULL WHERE id = $1", uuid.UUID(ids[0])
            )  # always shown
        finally:
            await conn.close()

    asyncio.run(create())
    return pg_url, ids


TWIN_QUERY = """SELECT (k.i - 1)::int, t.id::text, t.name, t.status, t.created, t.ended, t.progress,
    t.instance_id, t.instance_name, t.entities, t.fail_reason
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(id, project_id, since, i)
JOIN twin t ON t.id = k.id
WHERE t.ended IS NULL OR t.ended >= k.since"""


def test_postgres_readers_render_any_column_values_alike(pg_twin: tuple[str, list[str]]) -> None:
    url, ids = pg_twin
    rng = random.Random(29)

    def lookup() -> tuple[str | int, ...]:
        known = rng.choice(ids)
        job_id = _pick(rng, [known, known, known, known.upper(), known[:35] + "g", str(uuid.uuid4()), 7])
        since = _pick(rng, [-(10**16), -(10**16), T0_US, 10**16, rng.randrange(-(10**17), 10**17), "2026"])
        return (job_id, _pick(rng, ["p", 1, _text(rng)]), since)

    batches = [[lookup() for _ in range(rng.randrange(0, 10))] for _ in range(80)]
    # The extremes of the instants a lookup may give, infinity among them.
    batches += [
        [(ids[0], "p", INT64[0])],
        [(ids[0], "p", INT64[1])],
        [(ids[0], "p", INT64[1] + 946_684_800_000_000 - 2**64)],
    ]
    c, python = _both(lambda readers: readers.postgres(url, "", TWIN_QUERY, 1), batches)
    assert python == c
    assert (
        sum(answer is not None for _, answers in c if not isinstance(answers, str) for answer in answers) > 50
    )


def test_postgres_readers_fail_alike(pg_twin: tuple[str, list[str]]) -> None:
    url, ids = pg_twin
    parts = urlsplit(url)
    lookups: list[Lookups] = [[(ids[0], "p", T0_US)]]
    scenarios = [
        (url, "SET no_such_setting = 1", TWIN_QUERY),
        (url, "", TWIN_QUERY.replace("JOIN twin", "JOIN nowhere")),
        (url, "", TWIN_QUERY.replace("t.progress", "1 / (t.progress - t.progress)")),
        (url, "", TWIN_QUERY.replace(", t.fail_reason", "")),  # ten columns
        (url, "", TWIN_QUERY.replace("t.progress", "t.progress::int4")),  # not the width expected
        (url + "?search_path=public", "", TWIN_QUERY),
        (
            parts._replace(netloc=f"no_such_role@{parts.hostname}:{parts.port or 5432}").geturl(),
            "",
            TWIN_QUERY,
        ),
        (parts._replace(path="/no_such_database").geturl(), "", TWIN_QUERY),
        ("postgresql://nobody@127.0.0.1:1/none", "", TWIN_QUERY),
        ("host=127.0.0.1 port=1 user=nobody dbname=none", "", TWIN_QUERY),
    ]
    for conninfo, setup, query in scenarios:
        c, python = _both(lambda readers: readers.postgres(conninfo, setup, query, 1), lookups)
        assert python == c, (conninfo, setup, query)
        [(_, failure)] = c
        assert isinstance(failure, str) and failure, (conninfo, setup, query)


def test_python_postgres_reader_gives_up_connecting_after_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libpq does not time a connection made step by step: the Python reader does (10 s, as the C
    reader's connect_timeout; shortened here)."""
    monkeypatch.setattr(pure_readers, "_CONNECT_SECONDS", 0.3)
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        url = f"postgresql://nobody@127.0.0.1:{port}/none"
        reader = readers_named("python").postgres(url, "", PG_QUERY, 1)
        try:
            # As libpq words it when it times the connection (the C reader's), here after 10 s.
            expected = f'connection to server at "127.0.0.1", port {port} failed: timeout expired\n'
            assert _each(reader, [[(A, "p", T0_US)]]) == [(1, expected)]
        finally:
            reader.close()


def test_python_reader_dropped_without_close_stops_its_threads(tmp_path: Path) -> None:
    """As the C reader's dealloc does: its threads do not outlive it, waiting forever."""
    path = tmp_path / "r.db"
    sqlite3.connect(path).execute("CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT)").connection.close()
    reader = readers_named("python").sqlite(str(path), "", SQLITE_QUERY)
    assert _each(reader, [[("a", 1)]]) == [(1, [None])]
    threads = [t for t in threading.enumerate() if t.name.startswith("taskcenter-polls-sqlite")]
    assert threads
    del reader
    gc.collect()
    assert not any(thread.is_alive() for thread in threads)


@pytest.mark.parametrize(
    ("setting", "chosen"),
    [
        ({}, "c"),
        ({"TASKCENTER_PURE_PYTHON": "1"}, "python"),
        ({"TASKCENTER_PURE_PYTHON": "0"}, "c"),
        ({"NOT_BUILT": "1"}, "python"),
    ],
)
def test_the_c_readers_are_chosen_when_built_unless_pure_python_is_asked_for(
    setting: dict[str, str], chosen: str
) -> None:
    readers_named("c")  # skips where the C is not built
    program = (
        "import os, sys\n"
        "if os.environ.get('NOT_BUILT'):\n"
        "    sys.modules['taskcenter.storage.polls._poll_readers'] = None  # its import fails\n"
        "from taskcenter.storage.polls import readers\n"
        "print(readers.CHOSEN.name)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TASKCENTER_PURE_PYTHON"}
    out = subprocess.run([sys.executable, "-c", program], env=env | setting, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == chosen
