"""No store call blocks the event loop: SQLite's reads run on a reader thread, as its writes run
on the writer's (issue 19 §6: a list over a project of 500,000 jobs held the loop 56-77 ms, and
every poll with it)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path

from taskcenter.domain.requests import JobFilter, Page
from taskcenter.storage.columns import to_us
from taskcenter.storage.sqlite.store import SqliteStore
from tests.storage.contract import LONG_AGO, T0

JOBS = 150_000


def seed(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO jobs (id, project_id, name, status, created_at) VALUES (?, 'p1', 'Job', 'Running', ?)",
        ((str(uuid.uuid4()), to_us(T0) + n) for n in range(JOBS)),
    )
    conn.execute("COMMIT")
    conn.close()


async def test_a_long_list_leaves_the_event_loop_free(tmp_path: Path) -> None:
    path = tmp_path / "taskcenter.db"
    await (await SqliteStore.open(path)).close()
    seed(path)
    store = await SqliteStore.open(path)
    try:
        await store.list_jobs("p1", JobFilter(), Page(1, 10), LONG_AGO)  # pages read in
        longest_list, longest_stall = 0.0, 0.0
        for _ in range(5):
            listing = asyncio.ensure_future(store.list_jobs("p1", JobFilter(), Page(1, 10), LONG_AGO))
            started = last = time.perf_counter()
            while not listing.done():
                await asyncio.sleep(0)
                now = time.perf_counter()
                longest_stall, last = max(longest_stall, now - last), now
            longest_list = max(longest_list, time.perf_counter() - started)
            assert (await listing).total_count == JOBS
    finally:
        await store.close()
    # Counting the project's jobs takes SQLite milliseconds; on the event loop's thread, the loop
    # would stall as long. On the reader's, the loop turns while SQLite steps.
    assert longest_list >= 0.005, "the list was too quick to tell"
    assert longest_stall < longest_list / 3, (longest_stall, longest_list)
