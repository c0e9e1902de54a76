"""Poll lookups for the PostgreSQL store: one query, one round trip per batch (see storage.polls).

PostgreSQL renders the answer as well, so the event loop receives finished bodies and the
rendering runs in the database's process, beside the loop rather than on it.
"""

from __future__ import annotations

import asyncio

import asyncpg

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

# Unknown, foreign and expired jobs alike get no row; each row answers its key's position.
_BATCH_QUERY = f"""
SELECT (k.i - 1)::int, {_SHOWN_JOB}
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(id, project_id, since, i)
JOIN jobs ON jobs.id = k.id AND jobs.project_id = k.project_id
WHERE jobs.ended_at IS NULL OR jobs.ended_at >= k.since
"""


class PostgresPolls(PollBatcher):
    def __init__(self, pool: asyncpg.Pool, loop: asyncio.AbstractEventLoop) -> None:
        # Two batches at a time: with one, the event loop sat idle for a third of the time
        # while PostgreSQL answered; with three, batches got too small to pay for themselves.
        super().__init__(loop, in_flight=2)
        self._pool = pool
        self._tasks: set[asyncio.Task[None]] = set()

    def close(self) -> None:
        self._close()

    def _fetch(self, batch: Batch) -> None:
        task = self._loop.create_task(self._run(batch))
        self._tasks.add(task)  # a reference, so the task is not collected while it runs
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: Batch) -> None:
        try:
            rows = await self._pool.fetch(
                _BATCH_QUERY,
                [job_id for job_id, _, _, _ in batch],
                [project_id for _, project_id, _, _ in batch],
                [since for _, _, since, _ in batch],
            )
        except Exception as exc:  # handed to every caller of the batch
            self._finish(batch, None, exc)
        else:
            self._finish(batch, {index: body for index, body in rows}, None)
