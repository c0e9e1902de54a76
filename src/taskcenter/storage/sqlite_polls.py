"""Poll lookups for the SQLite store (see storage.polls).

One C reader thread with its own connection binds each lookup to one prepared statement. Among
millions of jobs a lookup's cost is SQLite walking two B-trees (memory latency, not Python), and
on that thread the walk runs on the other core while the event loop serves HTTP.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from taskcenter.storage._poll_readers import SqliteReader
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


class SqlitePolls(PollBatcher[SqliteReader]):
    def __init__(self, path: Path, setup: str, loop: asyncio.AbstractEventLoop) -> None:
        """``setup``: the statements the reader's own connection runs first (the store's)."""
        super().__init__(loop, SqliteReader(str(path), setup, _LOOKUP))

    def _submit(self, batch: Batch) -> int:
        return self._reader.submit([(job, project, to_us(since)) for job, project, since, _ in batch])

    def _failure(self, message: str) -> Exception:
        return sqlite3.OperationalError(message)
