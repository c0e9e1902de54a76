"""Nodes sharing PostgreSQL: the database's clock decides leases and leadership, not a node's,
and a leader that stops steps down so another node takes over at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import pytest

from taskcenter.domain.job import NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.engine.maintenance import Maintenance
from taskcenter.storage.postgres.store import PostgresStore
from tests.support import create_pg_database, drop_pg_database

LEASE = timedelta(seconds=30)
SLACK = timedelta(seconds=5)


@pytest.fixture
async def skewed() -> AsyncIterator[PostgresStore]:
    """A store whose database's clock runs a day ahead of this machine's (a node's clock is
    then a day behind the database's, as a skewed node's would be)."""
    url = await create_pg_database()
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE sql "
            "AS $$ SELECT pg_catalog.clock_timestamp() + interval '1 day' $$"
        )
        # Found before pg_catalog's own by every connection opened from now on.
        await conn.execute(f'ALTER DATABASE "{name}" SET search_path = public, pg_catalog')
    finally:
        await conn.close()
    store = await PostgresStore.open(url)
    yield store
    await store.close()
    await drop_pg_database(url)


async def test_leases_run_by_the_databases_clock(skewed: PostgresStore) -> None:
    node_now = datetime.now(UTC)
    ahead = node_now + timedelta(days=1)
    job, _ = await skewed.create_job(NewJob("p1", "TaskcenterNoop", status=JobStatus.PENDING,
                                            run_by_worker=True, max_attempts=3), node_now)  # fmt: skip
    [claimed] = await skewed.claim_jobs("w1", 1, node_now, LEASE)  # a node that pins its own clock
    # By the database's clock that lease ended a day ago: maintenance, passing no clock, rescues it.
    [rescued] = await skewed.rescue_expired(None, 10)
    assert rescued.id == job.id and rescued.status is JobStatus.PENDING
    assert rescued.run_at is not None
    assert abs(rescued.run_at - (ahead + timedelta(seconds=1))) < SLACK  # after its backoff
    other, _ = await skewed.create_job(NewJob("p1", "TaskcenterNoop", status=JobStatus.PENDING,
                                              run_by_worker=True), node_now)  # fmt: skip
    [taken] = await skewed.claim_jobs("w2", 1, None, LEASE)  # the retry waits its backoff
    assert taken.id == other.id
    assert taken.lease_expires is not None and abs(taken.lease_expires - (ahead + LEASE)) < SLACK
    assert claimed.lease_expires is not None and claimed.lease_expires < taken.lease_expires


async def test_leadership_runs_by_the_databases_clock(skewed: PostgresStore) -> None:
    node_now = datetime.now(UTC)
    assert await skewed.try_lead("maintenance", "a", node_now, LEASE)  # expires by the node's clock
    assert await skewed.try_lead("maintenance", "b", None, LEASE)  # long expired by the database's


async def test_a_stopping_leader_hands_over_at_once(pg_url: str) -> None:
    """Two maintenance loops on one database: the leader's clean stop lets the other lead at its
    next round, not after the leadership's three-round lease."""
    store = await PostgresStore.open(pg_url)
    interval = 2.0  # leadership lasts 6 s
    first = Maintenance(store, None, timedelta(days=30), interval, id="node-a")
    second = Maintenance(store, None, timedelta(days=30), interval, id="node-b")
    loops = [asyncio.create_task(first.run())]
    try:
        await until(lambda: first.leading)
        loops.append(asyncio.create_task(second.run()))
        await asyncio.sleep(0.2)  # its first round: node-a leads
        assert not second.leading
        first.stop()
        await loops[0]
        stopped = asyncio.get_running_loop().time()
        assert not first.leading
        await until(lambda: second.leading, timeout=interval * 2)
        assert asyncio.get_running_loop().time() - stopped < interval * 2.5  # well before 6 s
    finally:
        second.stop()
        first.stop()
        await asyncio.gather(*loops)
        await store.close()


async def until(check: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)
