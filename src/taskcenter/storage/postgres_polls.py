"""Poll lookups for the PostgreSQL store: one statement, one round trip per batch (see storage.polls).

The protocol and the rendering of the answers run on the reader's thread, none of it on the
event loop's.
"""

from __future__ import annotations

import asyncio

import orjson

from taskcenter.storage._poll_readers import PostgresReader
from taskcenter.storage.polls import Batch, PollBatcher

# The keys arrive as one JSON text, [[job id, project id, visible since], ...]: measured, it
# costs PostgreSQL less than three typed arrays. Unknown, foreign and expired jobs alike get no
# row; each row is its key's position and the shown columns, in the order the reader renders
# them (_poll_readers.c), read in binary.
_BATCH_QUERY = """
SELECT (k.i - 1)::int, jobs.id::text, jobs.name, jobs.status, jobs.created_at, jobs.ended_at,
       jobs.progress, jobs.instance_id, jobs.instance_name, jobs.entities, jobs.fail_reason
FROM json_array_elements($1::json) WITH ORDINALITY AS k(key, i)
JOIN jobs ON jobs.id = (k.key->>0)::uuid AND jobs.project_id = k.key->>1
WHERE jobs.ended_at IS NULL OR jobs.ended_at >= (k.key->>2)::timestamptz
"""

# A lookup that hangs (a lock, a stuck server) fails its polls rather than holding them.
_SETUP = "SET statement_timeout = '10s'"


class PostgresPolls(PollBatcher[PostgresReader]):
    """Batches on the reader's own thread and connection."""

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, PostgresReader(url, _SETUP, _BATCH_QUERY, 1))

    def _submit(self, batch: Batch) -> int:
        keys = orjson.dumps([[job_id, project_id, since] for job_id, project_id, since, _ in batch])
        return self._reader.submit(len(batch), (keys.decode(),))

    def _failure(self, message: str) -> Exception:
        hint = ""
        if "invalid URI query parameter" in message or "invalid connection option" in message:
            # asyncpg passes unknown URL parameters to the server as settings; libpq refuses them.
            hint = " (the poll lookups use libpq: give server settings as options=-c name=value)"
        return RuntimeError(f"PostgreSQL poll lookups failed: {message.strip()}{hint}")
