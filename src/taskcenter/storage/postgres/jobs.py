"""The task center's jobs in PostgreSQL (ports.jobs.JobsPort); and how any job change is written."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import asyncpg

from taskcenter.domain import moves
from taskcenter.domain.errors import (
    InstanceBusy,
    JobConflict,
    JobNotFinished,
    JobNotFound,
    JobRunByWorker,
    LeaseLost,
)
from taskcenter.domain.job import Job, JobEvent, JobPatch, NewJob, stored_params
from taskcenter.domain.moves import Decision
from taskcenter.domain.requests import JobFilter, Page, ScheduleFilter
from taskcenter.domain.runs import Claim, holds
from taskcenter.domain.status import JobStatus
from taskcenter.ports.jobs import JobListing
from taskcenter.storage import sql
from taskcenter.storage.postgres import rows
from taskcenter.storage.postgres.database import Conn
from taskcenter.storage.postgres.listen import JOBS_CHANNEL
from taskcenter.storage.postgres.polls import PostgresPolls

SQL = sql.load(__name__)


class PostgresJobs:
    _pool: asyncpg.Pool
    _polls: PostgresPolls

    async def create_job(self, new: NewJob, now: datetime) -> tuple[Job, bool]:
        job = new.to_job(now)
        async with self._pool.acquire() as conn, conn.transaction():
            if new.exclusive and new.instance is not None:
                await conn.execute(SQL["instance_lock"], new.instance.id)
                if await conn.fetchval(SQL["instance_busy"], new.instance.id):
                    raise InstanceBusy()
            if await conn.fetchrow(SQL["job_insert"], *rows.job_values(job)) is None:
                existing = await conn.fetchrow(
                    SQL["job_by_idempotency_key"], new.project_id, new.idempotency_key
                )
                assert existing is not None
                return rows.job(existing), False
            await conn.execute(SQL["job_event_insert"], *rows.event_values(moves.created(job)))
            await conn.execute(SQL["job_name_insert"], job.project_id, job.name)
            if job.run_by_worker:
                await conn.execute(SQL["jobs_notify"], JOBS_CHANNEL, job.id)
            return job, True

    async def get_job(self, project_id: str, job_id: str, visible_since: datetime) -> Job | None:
        row = await self._pool.fetchrow(SQL["job_get_visible"], job_id, project_id, visible_since)
        return rows.job(row) if row else None

    async def show_job(self, project_id: str, job_id: str, visible_since: datetime) -> bytes | None:
        return await self._polls.lookup(project_id, job_id, visible_since)

    async def find_job(self, job_id: str) -> Job | None:
        row = await self._pool.fetchrow(SQL["job_get"], job_id)
        return rows.job(row) if row else None

    async def update_job(self, job_id: str, patch: JobPatch, now: datetime) -> Job:
        async with self._pool.acquire() as conn, conn.transaction():
            current = await locked_job(conn, job_id)
            if current is None:
                raise JobNotFound()
            if current.run_by_worker:
                raise JobRunByWorker()
            [job] = await apply(conn, [moves.report(current, patch, now)])
            return job

    async def list_jobs(
        self, project_id: str, where: JobFilter, page: Page, visible_since: datetime
    ) -> JobListing:
        filters = sql.Filters()
        if where.status is not None:
            filters.add(SQL["filter_status"], where.status.value)
        if where.job_name is not None:
            filters.add(SQL["filter_name"], where.job_name)
        if where.job_id is not None:
            filters.add(SQL["filter_id"], where.job_id)
        if where.start_time is not None:
            filters.add(SQL["filter_created_from"], where.start_time)
        if where.end_time is not None:
            filters.add(SQL["filter_created_to"], where.end_time)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            # One snapshot, so the page, the count and the names agree with each other.
            found = await conn.fetch(
                filters.into(SQL["jobs_list"]),
                project_id,
                visible_since,
                page.size,
                page.offset,
                *filters.args,
            )
            total = await conn.fetchval(
                filters.into(SQL["jobs_count"]), project_id, visible_since, *filters.args
            )
            names = await conn.fetch(SQL["job_names_list"], project_id)
        return JobListing([rows.job(r) for r in found], total, [r[0] for r in names])

    async def delete_job(self, project_id: str, job_id: str, visible_since: datetime) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(SQL["job_status_visible_locked"], job_id, project_id, visible_since)
            if status is None:
                raise JobNotFound()
            if not JobStatus(status).is_final:
                raise JobNotFinished()
            await conn.execute(SQL["job_events_delete"], job_id)
            await conn.execute(SQL["job_delete"], job_id)

    async def job_events(self, job_id: str) -> list[JobEvent]:
        return [rows.event(r) for r in await self._pool.fetch(SQL["job_events_list"], job_id)]

    async def request_cancel(
        self, project_id: str, job_ids: list[str], now: datetime, visible_since: datetime
    ) -> list[str]:
        async with self._pool.acquire() as conn, conn.transaction():
            decisions = []
            for job_id in job_ids:
                row = await conn.fetchrow(SQL["job_get_visible_locked"], job_id, project_id, visible_since)
                if row is None:
                    raise JobNotFound()
                decisions.append(moves.cancel(rows.job(row), now))
            await apply(conn, decisions)
            return job_ids

    async def list_scheduled(
        self, project_id: str, where: ScheduleFilter, offset: int, limit: int, visible_since: datetime
    ) -> tuple[list[Job], int]:
        filters = sql.Filters()
        for fragment, value in (
            (SQL["filter_status"], where.status.value if where.status else None),
            (SQL["filter_id"], where.job_id),
            (SQL["filter_name"], where.job_name),
            (SQL["filter_instance"], where.instance_id),
            (SQL["filter_run_at_from"], where.start_time),
            (SQL["filter_run_at_to"], where.end_time),
        ):
            if value is not None:
                filters.add(fragment, value)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            found = await conn.fetch(
                filters.into(SQL["scheduled_list"]), project_id, visible_since, limit, offset, *filters.args
            )
            total = await conn.fetchval(
                filters.into(SQL["scheduled_count"]), project_id, visible_since, *filters.args
            )
        return [rows.job(r) for r in found], total


async def locked_job(conn: Conn, job_id: str) -> Job | None:
    row = await conn.fetchrow(SQL["job_get_locked"], job_id)
    return rows.job(row) if row else None


async def claimed_job(conn: Conn, claim: Claim) -> Job:
    job = await locked_job(conn, claim.job_id)
    if job is None or not holds(job, claim):
        raise LeaseLost()
    return job


async def apply(conn: Conn, decisions: list[Decision]) -> list[Job]:
    """Apply moves decided by domain.moves in the open transaction, in one statement however
    many: each a conditional update (the row must still be what its decision saw) plus the
    decided event; nothing of the store's own. Raises JobConflict, undoing them all with the
    transaction, if any row had changed."""
    if not decisions:
        return []
    params = [stored_params(d.after) for d in decisions]
    applied = await conn.fetchval(SQL["jobs_apply"], *rows.apply_values(decisions, params))
    if applied != len(decisions):
        raise JobConflict()
    return [dataclasses.replace(d.after, params=p) for d, p in zip(decisions, params, strict=True)]
