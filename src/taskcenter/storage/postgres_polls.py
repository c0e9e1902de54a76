"""Poll lookups for the PostgreSQL store: one query, one round trip per batch (see storage.polls).

PostgreSQL renders the answer as well, so the event loop receives finished bodies and the
rendering runs in the database's process, beside the loop rather than on it.
"""

from __future__ import annotations

import asyncio

import asyncpg
import orjson

from taskcenter.storage.polls import Batch, PollBatcher

_TIME = """'YYYY-MM-DD"T"HH24:MI:SS"+0000"'"""
# A job as GET /v3/{project_id}/jobs?id= shows it: {"job": job_info(job)}.
_SHOWN_JOB = f"""json_build_object('job', json_build_object(
    'id', jobs.id,
    'name', jobs.name,
    'status', jobs.status,
    'created', to_char(jobs.created_at AT TIME ZONE 'UTC', {_TIME}),
    'ended', coalesce(to_char(jobs.ended_at AT TIME ZONE 'UTC', {_TIME}), ''),
    'process', CASE WHEN jobs.status = 'Running' THEN jobs.progress || '%' ELSE '' END,
    'instance', json_build_object('id', coalesce(jobs.instance_id, ''),
                                  'name', CASE WHEN jobs.instance_id IS NULL THEN ''
                                               ELSE coalesce(jobs.instance_name, '') END),
    'entities', jobs.entities,
    'fail_reason', CASE WHEN jobs.status = 'Failed' THEN jobs.fail_reason ELSE '' END))::text"""

# The keys arrive as one JSON text, [[job id, project id, visible since], ...]: measured, it
# costs both the event loop and PostgreSQL less than three typed arrays. Unknown, foreign and
# expired jobs alike get no row; each row answers its key's position.
_BATCH_QUERY = f"""
SELECT (k.i - 1)::int, {_SHOWN_JOB}
FROM json_array_elements($1::json) WITH ORDINALITY AS k(key, i)
JOIN jobs ON jobs.id = (k.key->>0)::uuid AND jobs.project_id = k.key->>1
WHERE jobs.ended_at IS NULL OR jobs.ended_at >= (k.key->>2)::timestamptz
"""


class PostgresPolls(PollBatcher):
    """Fetches batches on connections of its own, one per batch in flight.

    Not through the store's pool: a pool's acquire and release cost the event loop more than
    the query, and its release runs a reset statement, a second round trip per batch.
    """

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop) -> None:
        # Two batches at a time: with one, the event loop sat idle for a third of the time
        # while PostgreSQL answered; with three, batches got too small to pay for themselves.
        # Measured on one VM; another VM of the same kind found one slightly faster
        # (BENCHMARKS.md).
        super().__init__(loop, in_flight=2)
        self._url = url
        self._idle: list[asyncpg.Connection] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        self._close()
        if self._tasks:
            await asyncio.wait(self._tasks)
        for conn in self._idle:
            await conn.close()
        self._idle = []

    def _fetch(self, batch: Batch) -> None:
        task = self._loop.create_task(self._run(batch))
        self._tasks.add(task)  # a reference, so the task is not collected while it runs
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: Batch) -> None:
        conn = self._idle.pop() if self._idle else None
        try:
            if conn is None:
                conn = await asyncpg.connect(self._url)
            keys = orjson.dumps([[job_id, project_id, since] for job_id, project_id, since, _ in batch])
            rows = await conn.fetch(_BATCH_QUERY, keys.decode())
        except Exception as exc:  # handed to every caller of the batch; the connection is dropped
            if conn is not None:
                conn.terminate()
            self._finish(batch, None, exc)
        else:
            self._idle.append(conn)
            found: list[bytes | None] = [None] * len(batch)
            for index, body in rows:
                found[index] = body.encode()
            self._finish(batch, found, None)
