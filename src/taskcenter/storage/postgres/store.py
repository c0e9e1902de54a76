"""The PostgreSQL store: for several taskcenter nodes sharing one database, every port in one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from taskcenter.storage.postgres.database import create_pool
from taskcenter.storage.postgres.engine import PostgresEngine
from taskcenter.storage.postgres.identity import PostgresIdentity
from taskcenter.storage.postgres.instances import PostgresInstances
from taskcenter.storage.postgres.jobs import PostgresJobs
from taskcenter.storage.postgres.polls import PostgresPolls

_NO_JOB = "00000000-0000-4000-8000-000000000000"


class PostgresStore(PostgresJobs, PostgresEngine, PostgresInstances, PostgresIdentity):
    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._url = url
        self._polls = PostgresPolls(url, asyncio.get_running_loop())

    @classmethod
    async def open(cls, url: str, *, min_size: int = 2, max_size: int = 10) -> PostgresStore:
        store = cls(await create_pool(url, min_size=min_size, max_size=max_size), url)
        try:
            # The poll lookups connect with libpq, not asyncpg: a URL that only asyncpg takes (a
            # server setting as a query parameter, say) must stop the start, not 500 every poll.
            await store.show_job("", _NO_JOB, datetime.now(UTC))
        except Exception:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        self._polls.close()
        await self._pool.close()
