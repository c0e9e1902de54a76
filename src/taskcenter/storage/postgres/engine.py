"""The job engine's storage in PostgreSQL (ports.engine.EnginePort), for several nodes sharing
one database: claims skip what others hold, and a job becoming due is NOTIFYed to all."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import asyncpg

from taskcenter.domain import moves
from taskcenter.domain.job import Job, JobPatch
from taskcenter.domain.runs import Claim, Outcome, ended, holds, lost
from taskcenter.domain.status import JobStatus
from taskcenter.ports.engine import LeaseStatus
from taskcenter.storage import sql
from taskcenter.storage.postgres import rows
from taskcenter.storage.postgres.database import Conn
from taskcenter.storage.postgres.jobs import apply, claimed_job
from taskcenter.storage.postgres.listen import JOBS_CHANNEL, Listener

SQL = sql.load(__name__)


class PostgresEngine:
    """``now``: the caller's where it gives one (tests pin time), else the database's clock
    (engine.sql's queries read it once each), so that one clock decides leases and leadership
    for every node."""

    _pool: asyncpg.Pool
    _url: str

    async def claim_jobs(self, worker: str, limit: int, now: datetime | None, lease: timedelta) -> list[Job]:
        async with self._pool.acquire() as conn, conn.transaction():
            due = await conn.fetch(SQL["jobs_due"], now, limit)
            # Each row ends with the statement's now.
            return await apply(conn, [moves.claim(rows.job(row), worker, row[-1], lease) for row in due])

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime | None, lease: timedelta
    ) -> LeaseStatus:
        found = await self._pool.fetch(SQL["leases_renew"], now, job_ids, worker, lease)
        return LeaseStatus(frozenset(str(r[0]) for r in found), frozenset(str(r[0]) for r in found if r[1]))

    async def report(self, claim: Claim, patch: JobPatch, now: datetime | None) -> Job:
        async with self._pool.acquire() as conn, conn.transaction():
            at = await _clock(conn, now)
            current = await claimed_job(conn, claim)
            [job] = await apply(conn, [moves.report(current, dataclasses.replace(patch, status=None), at)])
            return job

    async def finish_many(self, outcomes: list[Outcome], now: datetime | None) -> list[Job | None]:
        async with self._pool.acquire() as conn, conn.transaction():
            found = await conn.fetch(SQL["jobs_get_locked"], now, [o.claim.job_id for o in outcomes])
            if not found:
                return [None for _ in outcomes]
            at: datetime = found[0][-1]  # the statement's now, the same on every row
            current = {str(row[0]): rows.job(row) for row in found}
            held = [
                (outcome, job)
                for outcome in outcomes
                if (job := current.get(outcome.claim.job_id)) is not None and holds(job, outcome.claim)
            ]
            done = await apply(conn, [ended(job, outcome, at) for outcome, job in held])
            if any(job.status is JobStatus.PENDING for job in done):
                # A retry or a hand-back is due again: a worker anywhere may look at once.
                await conn.execute(SQL["jobs_notify"], JOBS_CHANNEL, "")
        by_id = {job.id: job for job in done}
        return [by_id.get(o.claim.job_id) for o in outcomes]

    async def rescue_expired(self, now: datetime | None, limit: int) -> list[Job]:
        async with self._pool.acquire() as conn, conn.transaction():
            expired = await conn.fetch(SQL["jobs_lease_expired"], now, limit)
            # Each row ends with the statement's now.
            return await apply(conn, [lost(rows.job(row), row[-1]) for row in expired])

    async def purge_ended(self, before: datetime, limit: int) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            ids = [r[0] for r in await conn.fetch(SQL["jobs_ended_before"], before, limit)]
            await conn.execute(SQL["job_events_delete_many"], ids)
            await conn.execute(SQL["jobs_delete_many"], ids)
            return len(ids)

    async def try_lead(self, duty: str, owner: str, now: datetime | None, ttl: timedelta) -> bool:
        return await self._pool.fetchrow(SQL["leader_take"], now, duty, owner, ttl) is not None

    async def resign(self, duty: str, owner: str) -> None:
        await self._pool.execute(SQL["leader_resign"], duty, owner)

    async def listen(self, callback: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """Call ``callback`` whenever a job run by workers is enqueued; returns the unsubscriber.

        On a connection of its own, restored with backoff whenever it is lost (listen.py).
        """
        listener = Listener(self._listen_connection, JOBS_CHANNEL, callback)
        await listener.start()
        return listener.stop

    async def _listen_connection(self) -> asyncpg.Connection:
        # Named, so an operator can tell it in pg_stat_activity from the pool's and the polls'.
        return await asyncpg.connect(
            self._url, timeout=10, server_settings={"application_name": "taskcenter-listen"}
        )


async def _clock(conn: Conn, now: datetime | None) -> datetime:
    if now is not None:
        return now
    clock: datetime = await conn.fetchval(SQL["clock_now"])
    return clock
