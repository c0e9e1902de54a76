"""The job engine's storage in SQLite (ports.engine.EnginePort).

Runs in the one process that holds the file, so a job becoming due is announced to this
process's listeners alone.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from taskcenter.domain.engine import Claim, Outcome, finished, holds, rescued, retry_later
from taskcenter.domain.job import Job, JobEvent, JobPatch, apply_patch
from taskcenter.domain.status import JobStatus
from taskcenter.ports.engine import LeaseStatus
from taskcenter.storage import sql
from taskcenter.storage.columns import to_us
from taskcenter.storage.sqlite import rows
from taskcenter.storage.sqlite.database import SqliteDatabase
from taskcenter.storage.sqlite.jobs import claimed_job, delete_record, locked_job, save

SQL = sql.load(__name__)


class SqliteEngine:
    _db: SqliteDatabase

    async def listen(self, callback: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        self._db.listeners.append(callback)

        async def stop() -> None:
            self._db.listeners.remove(callback)

        return stop

    async def claim_jobs(self, worker: str, limit: int, now: datetime, lease: timedelta) -> list[Job]:
        def tx(conn: sqlite3.Connection) -> list[Job]:
            claimed = []
            for row in conn.execute(SQL["jobs_due"], (to_us(now), limit)).fetchall():
                current = rows.job(row)
                job = dataclasses.replace(
                    current,
                    status=JobStatus.RUNNING,
                    started=current.started or now,
                    attempt=current.attempt + 1,
                    lease_owner=worker,
                    lease_expires=now + lease,
                )
                detail = f"claimed by {worker}, attempt {job.attempt} of {job.max_attempts}"
                claimed.append(
                    save(conn, current, job, JobEvent(job.id, current.status, job.status, now, detail))
                )
            return claimed

        return await self._db.write(tx)

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime, lease: timedelta
    ) -> LeaseStatus:
        def tx(conn: sqlite3.Connection) -> LeaseStatus:
            held, cancel = set(), set()
            expires = to_us(now + lease)
            for job_id in job_ids:
                row = conn.execute(SQL["lease_renew"], (expires, job_id, worker)).fetchone()
                if row is not None:
                    held.add(job_id)
                    if row[0]:
                        cancel.add(job_id)
            return LeaseStatus(frozenset(held), frozenset(cancel))

        return await self._db.write(tx)

    async def report(self, claim: Claim, patch: JobPatch, now: datetime) -> Job:
        def tx(conn: sqlite3.Connection) -> Job:
            current = claimed_job(conn, claim)
            job, event = apply_patch(current, dataclasses.replace(patch, status=None), now)
            return save(conn, current, job, event)

        return await self._db.write(tx)

    async def finish_many(self, outcomes: list[Outcome], now: datetime) -> list[Job | None]:
        def tx(conn: sqlite3.Connection) -> list[Job | None]:
            ended: list[Job | None] = []
            for outcome in outcomes:
                current = locked_job(conn, outcome.claim.job_id)
                if current is None or not holds(current, outcome.claim):
                    ended.append(None)
                    continue
                ended.append(save(conn, current, *finished(current, outcome, now)))
            return ended

        return await self._db.write(tx)

    async def release(self, claim: Claim, run_at: datetime, now: datetime, detail: str) -> Job:
        def tx(conn: sqlite3.Connection) -> Job:
            current = claimed_job(conn, claim)
            job = retry_later(current, run_at)
            return save(conn, current, job, JobEvent(job.id, current.status, job.status, now, detail))

        job = await self._db.write(tx)
        self._db.announce()
        return job

    async def rescue_expired(self, now: datetime, limit: int) -> list[Job]:
        def tx(conn: sqlite3.Connection) -> list[Job]:
            expired = conn.execute(SQL["jobs_lease_expired"], (to_us(now), limit)).fetchall()
            return [save(conn, *rescued(rows.job(row), now)) for row in expired]

        return await self._db.write(tx)

    async def purge_ended(self, before: datetime, limit: int) -> int:
        def tx(conn: sqlite3.Connection) -> int:
            ids = [job_id for (job_id,) in conn.execute(SQL["jobs_ended_before"], (to_us(before), limit))]
            for job_id in ids:
                delete_record(conn, job_id)
            return len(ids)

        return await self._db.write(tx)

    async def try_lead(self, duty: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            row = conn.execute(SQL["leader_take"], (duty, owner, to_us(now + ttl), to_us(now))).fetchone()
            return row is not None

        return await self._db.write(tx)
