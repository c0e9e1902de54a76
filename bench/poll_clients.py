"""Benchmark: the PostgreSQL client for the pure-Python poll readers, psycopg's pq or asyncpg.

The CPU of this process per lookup, for batches of 8 lookups by id run one after another on one
thread, each answer rendered by storage/polls/answer.py: through the pure readers' own driver
(libpq through psycopg's pq layer, binary arrays and rows), and through asyncpg on an event loop
of its own thread (its records' datetimes and texts converted for the same rendering).

    .venv/bin/python -m bench.poll_clients --jobs 100000 --batches 3000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.get_by_id import seed
from taskcenter.storage.polls import pure_readers
from taskcenter.storage.polls.answer import render
from taskcenter.storage.postgres.polls import SQL as POLL_SQL
from tests.support import create_pg_database, drop_pg_database

Lookups = list[tuple[str | int, ...]]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def with_psycopg(url: str, batches: list[Lookups]) -> tuple[float, int]:
    """CPU seconds for the batches, and the lookups answered."""
    driver = pure_readers._PostgresDriver(
        pure_readers._poll_conninfo(url), POLL_SQL["session_settings"].encode(), POLL_SQL["batch"].encode()
    )
    driver.run(pure_readers._Batch(0, batches[0]))  # connected and prepared
    started, found = time.process_time(), 0
    for number, lookups in enumerate(batches):
        batch = pure_readers._Batch(number, lookups)
        driver.run(batch)
        assert batch.error is None, batch.error
        found += sum(answer is not None for answer in batch.answers)
    spent = time.process_time() - started
    driver.close()
    return spent, found


def with_asyncpg(url: str, batches: list[Lookups]) -> tuple[float, int]:
    async def run() -> tuple[float, int]:
        conn = await asyncpg.connect(url)
        await conn.execute(POLL_SQL["session_settings"])
        statement = await conn.prepare(POLL_SQL["batch"])

        async def one(lookups: Lookups) -> list[bytes | None]:
            since = [EPOCH + int(us) * MICROSECOND for _, _, us in lookups]
            rows = await statement.fetch([j for j, _, _ in lookups], [p for _, p, _ in lookups], since)
            answers: list[bytes | None] = [None] * len(lookups)
            for row in rows:
                ended = None if row[5] is None else (row[5] - EPOCH) // MICROSECOND
                texts = [None if value is None else value.encode() for value in (row[7], row[8], row[10])]
                answers[row[0]] = render(row[1].encode(), row[2].encode(), row[3].encode(),
                                         (row[4] - EPOCH) // MICROSECOND, ended, row[6], texts[0], texts[1],
                                         row[9].encode(), texts[2])  # fmt: skip
            return answers

        await one(batches[0])
        started, found = time.process_time(), 0
        for lookups in batches:
            found += sum(answer is not None for answer in await one(lookups))
        spent = time.process_time() - started
        await conn.close()
        return spent, found

    result: list[tuple[float, int]] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(run())))
    thread.start()
    thread.join()
    return result[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    url = asyncio.run(create_pg_database())
    try:
        _, jobs = asyncio.run(seed(url, Path(tempfile.mkdtemp(prefix="tc-bench-")), 10, args.jobs))
        rng = random.Random(1)
        since = int((datetime.now(UTC) - timedelta(days=30)).timestamp() * 1_000_000)
        batches: list[Lookups] = [
            [(job, project, since) for project, job in (jobs[rng.randrange(len(jobs))] for _ in range(8))]
            for _ in range(args.batches)
        ]
        lookups = 8 * len(batches)
        clients: list[tuple[str, Callable[[str, list[Lookups]], tuple[float, int]]]] = [
            ("psycopg pq", with_psycopg),
            ("asyncpg", with_asyncpg),
        ]
        for _ in range(args.rounds):
            for name, client in clients:
                spent, found = client(url, batches)
                print(f"{name}: {spent / lookups * 1e6:.1f} µs of CPU a lookup ({found} of {lookups} found)")
    finally:
        asyncio.run(drop_pg_database(url))


if __name__ == "__main__":
    main()
