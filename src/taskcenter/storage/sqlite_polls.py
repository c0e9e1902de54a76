"""Poll lookups for the SQLite store, on a reader thread that never takes the GIL (see storage.polls).

Why a thread: among millions of jobs, a poll's cost is mostly SQLite walking two B-trees
(memory latency, not Python). On a thread of its own that walk runs on the other core while
the event loop serves HTTP.

Why that thread is C (_sqlite_reader.c): a Python thread needs the GIL to start each batch and
to hand back its answers, and gets it only when the event loop's thread blocks. Measured under
load, a batch then waited 350-500 µs to start and as long again to end, and the event loop
idled a fifth of the time waiting for it (BENCHMARKS.md). The C thread binds each lookup to one
prepared statement and signals an eventfd that the event loop watches; no Python runs there.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from pathlib import Path

from taskcenter.storage._sqlite_reader import Reader
from taskcenter.storage.polls import Batch, PollBatcher
from taskcenter.storage.rows import to_us

# A job as GET /v3/{project_id}/jobs?id= shows it: {"job": job_info(job)}.
_TIME = "%Y-%m-%dT%H:%M:%S+0000"
_SHOWN_JOB = f"""json_object('job', json_object(
    'id', jobs.id,
    'name', jobs.name,
    'status', jobs.status,
    'created', strftime('{_TIME}', jobs.created_us / 1000000, 'unixepoch'),
    'ended', CASE WHEN jobs.ended_us IS NULL THEN ''
                  ELSE strftime('{_TIME}', jobs.ended_us / 1000000, 'unixepoch') END,
    'process', CASE WHEN jobs.status = 'Running' THEN jobs.progress || '%' ELSE '' END,
    'instance', json_object('id', coalesce(jobs.instance_id, ''),
                            'name', CASE WHEN jobs.instance_id IS NULL THEN ''
                                         ELSE coalesce(jobs.instance_name, '') END),
    'entities', json(jobs.entities),
    'fail_reason', CASE WHEN jobs.status = 'Failed' THEN jobs.fail_reason ELSE '' END))"""

# One lookup: (job id, project id, visible-since µs). Unknown, foreign and expired jobs alike
# get no row.
_LOOKUP = f"""
SELECT {_SHOWN_JOB} FROM jobs
WHERE jobs.id = ?1 AND jobs.project_id = ?2 AND (jobs.ended_us IS NULL OR jobs.ended_us >= ?3)
"""

# The reader's own connection: reads through a memory map and a large page cache, like the
# store's other connections (storage.sqlite._connect).
_SETUP = "PRAGMA mmap_size=4294967296; PRAGMA cache_size=-65536; PRAGMA busy_timeout=5000;"


class SqlitePolls(PollBatcher):
    """Hands batches to the C reader thread and answers them when its eventfd fires."""

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop) -> None:
        # One batch at a time: the reader is one thread, and lookups that arrive meanwhile make
        # the next batch bigger rather than queueing behind it one by one.
        super().__init__(loop, in_flight=1)
        self._reader = Reader(str(path), _SETUP, _LOOKUP)
        self._sent: deque[Batch] = deque()
        loop.add_reader(self._reader.fileno(), self._collect)

    def close(self) -> None:
        self._loop.remove_reader(self._reader.fileno())
        self._reader.close()  # runs what was submitted, then stops
        self._collect()
        self._close()

    def _fetch(self, batch: Batch) -> None:
        self._reader.submit([(job, project, to_us(since)) for job, project, since, _ in batch])
        self._sent.append(batch)

    def _collect(self) -> None:
        for answers in self._reader.collect():
            batch = self._sent.popleft()
            if isinstance(answers, str):
                self._finish(batch, None, sqlite3.OperationalError(answers))
            else:
                self._finish(batch, answers, None)
