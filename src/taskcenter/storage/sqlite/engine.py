"""The job engine's storage in SQLite (ports.engine.EnginePort).

Runs in the one process that holds the file, so a job becoming due is announced to this
process's listeners alone.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from taskcenter.domain import moves
from taskcenter.domain.clock import system_clock
from taskcenter.domain.job import Job, JobPatch
from taskcenter.domain.runs import Claim, Outcome, ended, holds, lost
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

    async def claim_jobs(self, worker: str, limit: int, now: datetime | None, lease: timedelta) -> list[Job]:
        def tx(conn: sqlite3.Connection) -> list[Job]:
            at = _clock(now)
            due = conn.execute(SQL["jobs_due"], (to_us(at), limit)).fetchall()
            return [save(conn, moves.claim(rows.job(row), worker, at, lease)) for row in due]

        return await self._db.write(tx)

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime | None, lease: timedelta
    ) -> LeaseStatus:
        def tx(conn: sqlite3.Connection) -> LeaseStatus:
            held, cancel = set(), set()
            expires = to_us(_clock(now) + lease)
            for job_id in job_ids:
                row = conn.execute(SQL["lease_renew"], (expires, job_id, worker)).fetchone()
                if row is not None:
                    held.add(job_id)
                    if row[0]:
                        cancel.add(job_id)
            return LeaseStatus(frozenset(held), frozenset(cancel))

        return await self._db.write(tx)

    async def report(self, claim: Claim, patch: JobPatch, now: datetime | None) -> Job:
        def tx(conn: sqlite3.Connection) -> Job:
            current = claimed_job(conn, claim)
            return save(conn, moves.report(current, dataclasses.replace(patch, status=None), _clock(now)))

        return await self._db.write(tx)

    async def finish_many(self, outcomes: list[Outcome], now: datetime | None) -> list[Job | None]:
        def tx(conn: sqlite3.Connection) -> list[Job | None]:
            at = _clock(now)
            results: list[Job | None] = []
            for outcome in outcomes:
                current = locked_job(conn, outcome.claim.job_id)
                if current is None or not holds(current, outcome.claim):
                    results.append(None)
                    continue
                results.append(save(conn, ended(current, outcome, at)))
            return results

        results = await self._db.write(tx)
        if any(job is not None and job.status is JobStatus.PENDING for job in results):
            self._db.announce()  # a retry or a hand-back: due again, now or later
        return results

    async def rescue_expired(self, now: datetime | None, limit: int) -> list[Job]:
        def tx(conn: sqlite3.Connection) -> list[Job]:
            at = _clock(now)
            expired = conn.execute(SQL["jobs_lease_expired"], (to_us(at), limit)).fetchall()
            return [save(conn, lost(rows.job(row), at)) for row in expired]

        return await self._db.write(tx)

    async def purge_ended(self, before: datetime, limit: int) -> int:
        def tx(conn: sqlite3.Connection) -> int:
            ids = [job_id for (job_id,) in conn.execute(SQL["jobs_ended_before"], (to_us(before), limit))]
            for job_id in ids:
                delete_record(conn, job_id)
            return len(ids)

        return await self._db.write(tx)

    async def try_lead(self, duty: str, owner: str, now: datetime | None, ttl: timedelta) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            at = _clock(now)
            row = conn.execute(SQL["leader_take"], (duty, owner, to_us(at + ttl), to_us(at))).fetchone()
            return row is not None

        return await self._db.write(tx)

    async def resign(self, duty: str, owner: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(SQL["leader_resign"], (duty, owner))

        await self._db.write(tx)


def _clock(now: datetime | None) -> datetime:
    """``now`` if given (tests pin time), else this machine's: SQLite serves one node, one clock."""
    return now if now is not None else system_clock()
