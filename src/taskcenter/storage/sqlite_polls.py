"""Poll lookups for the SQLite store, on a thread of their own (see storage.polls).

Why a thread: among millions of jobs, a poll's cost is mostly SQLite walking two B-trees
(memory latency, not Python), and the sqlite3 module releases the GIL while a statement runs.
On its own thread that walk runs on another core while the event loop serves HTTP. The
statement packs a whole batch into one JSON text, so every B-tree walk and every rendering
of the batch happen in a single step without the GIL; the thread holds the GIL only to start
that step and to hand its text back.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading

import orjson

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

# Each key is [job id, project id, visible-since µs]; each answer is [the key's index, the
# rendered job as a string], and unknown, foreign and expired jobs alike get none.
_BATCH_QUERY = f"""
SELECT json_group_array(json_array(k.key, {_SHOWN_JOB} || ''))
FROM json_each(?1) AS k
JOIN jobs ON jobs.id = json_extract(k.value, '$[0]') AND jobs.project_id = json_extract(k.value, '$[1]')
WHERE jobs.ended_us IS NULL OR jobs.ended_us >= json_extract(k.value, '$[2]')
"""


class SqlitePolls(PollBatcher):
    """Fetches batches on its own connection and thread; they share only a queue with the loop."""

    def __init__(self, conn: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        # One batch at a time: measured, a second reader thread took more from the event loop
        # in GIL hand-overs than it gave back in overlap.
        super().__init__(loop, in_flight=1)
        self._batches: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, args=(conn,), name="sqlite-polls", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._batches.put(None)
        self._thread.join()
        self._close()

    def _fetch(self, batch: Batch) -> None:
        self._batches.put(batch)

    def _run(self, conn: sqlite3.Connection) -> None:
        while (batch := self._batches.get()) is not None:
            found: dict[int, str] | None = None
            error: Exception | None = None
            try:
                keys = orjson.dumps([[job, project, to_us(since)] for job, project, since, _ in batch])
                (text,) = conn.execute(_BATCH_QUERY, (keys.decode(),)).fetchone()
                found = dict(orjson.loads(text))
            except Exception as exc:  # handed to every caller of the batch
                error = exc
            # RuntimeError: the loop is closed, and nobody waits for this batch any more.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._finish, batch, found, error)
        conn.close()
