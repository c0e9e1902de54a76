"""Poll lookups for the PostgreSQL store: one statement, one round trip per batch (see storage.polls).

PostgreSQL renders the answer as well, so the reader receives finished bodies: the rendering
runs in the database's process and the protocol on the reader's threads, none of it on the
event loop's.
"""

from __future__ import annotations

import asyncio

import orjson

from taskcenter.storage._poll_readers import PostgresReader
from taskcenter.storage.polls import Batch, PollBatcher

_TIME = """'YYYY-MM-DD"T"HH24:MI:SS"+0000"'"""
# A job as GET /v3/{project_id}/jobs?id= shows it: {"job": job_info(job)}, compact as the cloud
# writes it. Concatenated, with to_json quoting every free text: measured, json_build_object
# cost PostgreSQL a fifth more per lookup, and spaced its output ("id" : ...). The entities keep
# jsonb's own text form.
_SHOWN_JOB = f"""'{{"job":{{"id":"' || jobs.id::text
    || '","name":' || to_json(jobs.name)::text
    || ',"status":"' || jobs.status
    || '","created":"' || to_char(jobs.created_at AT TIME ZONE 'UTC', {_TIME})
    || '","ended":"' || coalesce(to_char(jobs.ended_at AT TIME ZONE 'UTC', {_TIME}), '')
    || '","process":"' || CASE WHEN jobs.status = 'Running' THEN jobs.progress || '%' ELSE '' END
    || '","instance":{{"id":' || to_json(coalesce(jobs.instance_id, ''))::text
    || ',"name":' || to_json(CASE WHEN jobs.instance_id IS NULL THEN ''
                                  ELSE coalesce(jobs.instance_name, '') END)::text
    || '}},"entities":' || jobs.entities::text
    || ',"fail_reason":' || to_json(CASE WHEN jobs.status = 'Failed' THEN jobs.fail_reason ELSE '' END)::text
    || '}}}}'"""

# The keys arrive as one JSON text, [[job id, project id, visible since], ...]: measured, it
# costs PostgreSQL less than three typed arrays. Unknown, foreign and expired jobs alike get no
# row; each row answers its key's position.
_BATCH_QUERY = f"""
SELECT (k.i - 1)::int, {_SHOWN_JOB}
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
