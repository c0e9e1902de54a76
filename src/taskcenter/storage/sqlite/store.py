"""The SQLite store: the embedded default (WAL, one file in the data dir), every port in one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from taskcenter.storage.sqlite.database import READ_SETTINGS, SqliteDatabase
from taskcenter.storage.sqlite.engine import SqliteEngine
from taskcenter.storage.sqlite.identity import SqliteIdentity
from taskcenter.storage.sqlite.instances import SqliteInstances
from taskcenter.storage.sqlite.jobs import SqliteJobs
from taskcenter.storage.sqlite.polls import SqlitePolls


class SqliteStore(SqliteJobs, SqliteEngine, SqliteInstances, SqliteIdentity):
    dialect = "sqlite"

    def __init__(self, db: SqliteDatabase, polls: SqlitePolls) -> None:
        self._db = db
        self._polls = polls

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        db = SqliteDatabase.open(path)
        return cls(db, SqlitePolls(path, READ_SETTINGS, asyncio.get_running_loop()))

    async def close(self) -> None:
        await self._db.close()
        self._polls.close()
