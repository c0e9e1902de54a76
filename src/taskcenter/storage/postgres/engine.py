"""The job engine's storage in PostgreSQL (ports.engine.EnginePort), for several nodes sharing
one database: claims skip what others hold, and a job becoming due is NOTIFYed to all."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import asyncpg

from taskcenter.domain.engine import Claim, Outcome, rescued, retry_later
from taskcenter.domain.job import Job, JobEvent, JobPatch, apply_patch
from taskcenter.ports.engine import LeaseStatus
from taskcenter.storage import sql
from taskcenter.storage.postgres import rows
from taskcenter.storage.postgres.jobs import claimed_job, save
from taskcenter.storage.postgres.listen import JOBS_CHANNEL, Listener

SQL = sql.load(__name__)


class PostgresEngine:
    _pool: asyncpg.Pool
    _url: str

    async def claim_jobs(self, worker: str, limit: int, now: datetime, lease: timedelta) -> list[Job]:
        found = await self._pool.fetch(SQL["jobs_claim"], now, limit, worker, now + lease)
        return [rows.job(row) for row in found]

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime, lease: timedelta
    ) -> LeaseStatus:
        found = await self._pool.fetch(SQL["leases_renew"], now + lease, job_ids, worker)
        return LeaseStatus(frozenset(str(r[0]) for r in found), frozenset(str(r[0]) for r in found if r[1]))

    async def report(self, claim: Claim, patch: JobPatch, now: datetime) -> Job:
        async with self._pool.acquire() as conn, conn.transaction():
            current = await claimed_job(conn, claim)
            job, event = apply_patch(current, dataclasses.replace(patch, status=None), now)
            return await save(conn, current, job, event)

    async def finish_many(self, outcomes: list[Outcome], now: datetime) -> list[Job | None]:
        found = await self._pool.fetch(
            SQL["jobs_finish"],
            [o.claim.job_id for o in outcomes],
            [o.claim.worker for o in outcomes],
            [o.claim.attempt for o in outcomes],
            [o.status.value for o in outcomes],
            [o.fail_reason for o in outcomes],
            now,
        )
        by_id = {str(row[0]): rows.job(row) for row in found}
        return [by_id.get(o.claim.job_id) for o in outcomes]

    async def release(self, claim: Claim, run_at: datetime, now: datetime, detail: str) -> Job:
        async with self._pool.acquire() as conn, conn.transaction():
            current = await claimed_job(conn, claim)
            job = retry_later(current, run_at)
            saved = await save(conn, current, job, JobEvent(job.id, current.status, job.status, now, detail))
            await conn.execute(SQL["jobs_notify"], JOBS_CHANNEL, job.id)
            return saved

    async def rescue_expired(self, now: datetime, limit: int) -> list[Job]:
        async with self._pool.acquire() as conn, conn.transaction():
            expired = await conn.fetch(SQL["jobs_lease_expired"], now, limit)
            return [await save(conn, *rescued(rows.job(row), now)) for row in expired]

    async def purge_ended(self, before: datetime, limit: int) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            ids = [r[0] for r in await conn.fetch(SQL["jobs_ended_before"], before, limit)]
            await conn.execute(SQL["job_events_delete_many"], ids)
            await conn.execute(SQL["jobs_delete_many"], ids)
            return len(ids)

    async def try_lead(self, duty: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        return await self._pool.fetchrow(SQL["leader_take"], duty, owner, now + ttl, now) is not None

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
