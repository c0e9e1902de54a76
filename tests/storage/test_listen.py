"""PostgreSQL's LISTEN connection: a real backend killed with pg_terminate_backend comes back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import pytest

from taskcenter.domain.job import NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.storage.postgres.listen import JOBS_CHANNEL, Listener
from taskcenter.storage.postgres.store import PostgresStore
from tests.storage.contract import T0
from tests.support import PG_ADMIN_URL

LOST = "LISTEN connection to PostgreSQL was lost"
RESTORED = "LISTEN connection to PostgreSQL is restored"


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


@dataclass
class Server:
    """A connection outside the test's database, to watch and kill that database's backends."""

    conn: asyncpg.Connection
    database: str

    async def listening(self) -> list[int]:
        """The pids of the database's backends that listen: idle after a LISTEN."""
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'idle' AND query LIKE 'LISTEN%'",
            self.database,
        )
        return [r[0] for r in rows]

    async def the_listener(self, other_than: int | None = None) -> int:
        """Waits until exactly one backend listens, and it is not ``other_than``; its pid."""
        found: list[int] = []

        async def one() -> bool:
            found[:] = await self.listening()
            return len(found) == 1 and found[0] != other_than

        await until(one)
        return found[0]

    async def kill(self, pid: int) -> None:
        assert await self.conn.fetchval("SELECT pg_terminate_backend($1)", pid)


@pytest.fixture
async def server(pg_url: str) -> AsyncIterator[Server]:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    yield Server(conn, urlsplit(pg_url).path.lstrip("/"))
    await conn.close()


def logged(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def worker_job() -> NewJob:
    return NewJob("p1", "Job", status=JobStatus.PENDING, run_by_worker=True)


async def test_a_killed_listen_connection_is_restored_and_notifies_again(
    pg_url: str, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="taskcenter")
    store = await PostgresStore.open(pg_url)
    woken = asyncio.Event()
    try:
        unlisten = await store.listen(woken.set)
        killed = await server.the_listener()
        await store.create_job(worker_job(), T0)
        await asyncio.wait_for(woken.wait(), 5)
        woken.clear()

        await server.kill(killed)
        restored = await server.the_listener(other_than=killed)
        # What was sent while it was down is lost: the restore itself wakes the listener once.
        await asyncio.wait_for(woken.wait(), 5)
        woken.clear()
        await store.create_job(worker_job(), T0)
        await asyncio.wait_for(woken.wait(), 2)  # a notification again

        await unlisten()
        assert restored not in await server.listening()
    finally:
        await store.close()
    [lost] = logged(caplog, LOST)
    [back] = logged(caplog, RESTORED)
    assert lost.levelno == logging.WARNING and back.levelno == logging.INFO
    assert errors(caplog) == []


async def test_listening_is_retried_with_capped_backoff_while_the_database_refuses(
    pg_url: str, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """While the database takes no new connections, attempts come at doubling intervals up to the
    cap, each failure logged at debug level only; once it takes them again, it listens again."""
    caplog.set_level(logging.DEBUG, logger="taskcenter.storage")
    woken = asyncio.Event()
    listener = Listener(
        lambda: asyncpg.connect(pg_url), JOBS_CHANNEL, woken.set, first_retry=0.05, max_retry=0.2
    )
    await listener.start()
    try:
        killed = await server.the_listener()
        await server.conn.execute(f'ALTER DATABASE "{server.database}" ALLOW_CONNECTIONS false')
        try:
            await server.kill(killed)

            async def five_failures() -> bool:
                return len(logged(caplog, "LISTEN attempt")) >= 5

            await until(five_failures)
            failures = logged(caplog, "LISTEN attempt")[:5]
            assert [r.getMessage().rsplit("next in ", 1)[1] for r in failures] == [
                "0.1 s", "0.2 s", "0.2 s", "0.2 s", "0.2 s"
            ]  # fmt: skip
            assert {r.levelno for r in failures} == {logging.DEBUG}
            assert logged(caplog, RESTORED) == [] and not woken.is_set()
        finally:
            await server.conn.execute(f'ALTER DATABASE "{server.database}" ALLOW_CONNECTIONS true')
        await server.the_listener(other_than=killed)
        await asyncio.wait_for(woken.wait(), 5)
        woken.clear()
        notifier = await asyncpg.connect(pg_url)
        try:
            await notifier.execute(f"NOTIFY {JOBS_CHANNEL}")
        finally:
            await notifier.close()
        await asyncio.wait_for(woken.wait(), 2)
    finally:
        await listener.stop()
    assert len(logged(caplog, LOST)) == 1 and len(logged(caplog, RESTORED)) == 1
    assert errors(caplog) == []


async def test_stopping_while_it_is_being_restored_logs_no_error(
    pg_url: str, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="taskcenter")
    store = await PostgresStore.open(pg_url)
    try:
        unlisten = await store.listen(lambda: None)
        await server.kill(await server.the_listener())

        async def lost() -> bool:
            return bool(logged(caplog, LOST))

        await until(lost)
        await unlisten()
        assert await server.listening() == []
    finally:
        await store.close()
    assert errors(caplog) == []
