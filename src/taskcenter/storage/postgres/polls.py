"""Poll lookups for the PostgreSQL store: one statement, one round trip per batch (see storage.polls).

The protocol and the rendering of the answers run on the reader's thread, none of it on the
event loop's.
"""

from __future__ import annotations

import asyncio

from taskcenter.storage import sql
from taskcenter.storage.polls import readers
from taskcenter.storage.polls.batcher import PollBatcher

SQL = sql.load(__name__)


class PostgresPolls(PollBatcher):
    """Batches on the reader's own thread and connection, one statement each."""

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, readers.CHOSEN.postgres(url, SQL["session_settings"], SQL["batch"], 1))

    def _failure(self, message: str) -> Exception:
        hint = ""
        if "invalid URI query parameter" in message or "invalid connection option" in message:
            # asyncpg passes unknown URL parameters to the server as settings; libpq refuses them.
            hint = " (the poll lookups use libpq: give server settings as options=-c name=value)"
        return RuntimeError(f"PostgreSQL poll lookups failed: {message.strip()}{hint}")
