"""Poll lookups for the SQLite store (see storage.polls).

One reader thread with its own connection binds each lookup to one prepared statement. Among
millions of jobs a lookup's cost is SQLite walking two B-trees (memory latency, not Python), and
on that thread the walk runs on the other core while the event loop serves HTTP (the C reader's
thread wholly; the pure-Python one's while SQLite steps, with the GIL released).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from taskcenter.storage import sql
from taskcenter.storage.polls import readers
from taskcenter.storage.polls.batcher import PollBatcher

SQL = sql.load(__name__)


class SqlitePolls(PollBatcher):
    """One reader thread and connection; a batch's cost here is its lookups."""

    def __init__(self, path: Path, setup: str, loop: asyncio.AbstractEventLoop) -> None:
        """``setup``: the statements the reader's own connection runs first (the store's)."""
        super().__init__(loop, readers.CHOSEN.sqlite(str(path), setup, SQL["lookup"]))

    def _failure(self, message: str) -> Exception:
        return sqlite3.OperationalError(message)
