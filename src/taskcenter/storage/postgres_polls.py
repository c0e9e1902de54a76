"""Poll lookups for the PostgreSQL store: one statement, one round trip per batch (see storage.polls).

The protocol and the rendering of the answers run on the reader's thread, none of it on the
event loop's.
"""

from __future__ import annotations

import asyncio

from taskcenter.storage import poll_readers
from taskcenter.storage.polls import PollBatcher

# The lookups arrive as three arrays, built in binary by the reader (_poll_readers.c says why).
# Unknown, foreign and expired jobs alike get no row; each row is its lookup's position and the
# shown columns, in the order the reader renders them, read in binary.
_BATCH_QUERY = """
SELECT (k.i - 1)::int, jobs.id::text, jobs.name, jobs.status, jobs.created_at, jobs.ended_at,
       jobs.progress, jobs.instance_id, jobs.instance_name, jobs.entities, jobs.fail_reason
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(id, project_id, since, i)
JOIN jobs ON jobs.id = k.id AND jobs.project_id = k.project_id
WHERE jobs.ended_at IS NULL OR jobs.ended_at >= k.since
"""

# A lookup that hangs (a lock, a stuck server) fails its polls rather than holding them.
#
# The generic plan, always: PostgreSQL otherwise plans the statement anew for each batch whenever
# its estimate for the batch's arrays is below the generic plan's (it assumes 10 lookups), so
# batches of a few polls, the common case under moderate load, paid a planning each. Measured
# on the backend's CPU (BENCHMARKS.md): batches of 4 took 73-81 µs a lookup so, 19-31 µs with
# the generic plan; batches of 16 the same either way, since it picks the generic plan there. The
# plan does not depend on the arrays: a nested loop over them, probing jobs by id.
_SETUP = "SET statement_timeout = '10s'; SET plan_cache_mode = force_generic_plan"


class PostgresPolls(PollBatcher):
    """Batches on the reader's own thread and connection, one statement each."""

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, poll_readers.CHOSEN.postgres(url, _SETUP, _BATCH_QUERY, 1))

    def _failure(self, message: str) -> Exception:
        hint = ""
        if "invalid URI query parameter" in message or "invalid connection option" in message:
            # asyncpg passes unknown URL parameters to the server as settings; libpq refuses them.
            hint = " (the poll lookups use libpq: give server settings as options=-c name=value)"
        return RuntimeError(f"PostgreSQL poll lookups failed: {message.strip()}{hint}")
