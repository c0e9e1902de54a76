"""The task center's jobs in SQLite (ports.jobs.JobsPort); and how any job change is written."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime

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
from taskcenter.storage.columns import to_us
from taskcenter.storage.sqlite import rows
from taskcenter.storage.sqlite.database import SqliteDatabase
from taskcenter.storage.sqlite.polls import SqlitePolls

SQL = sql.load(__name__)


class SqliteJobs:
    _db: SqliteDatabase
    _polls: SqlitePolls

    async def create_job(self, new: NewJob, now: datetime) -> tuple[Job, bool]:
        def tx(conn: sqlite3.Connection) -> tuple[Job, bool]:
            if new.idempotency_key is not None:
                row = conn.execute(
                    SQL["job_by_idempotency_key"], (new.project_id, new.idempotency_key)
                ).fetchone()
                if row:
                    return rows.job(row), False
            if (
                new.exclusive
                and new.instance is not None
                and conn.execute(SQL["instance_busy"], (new.instance.id,)).fetchone()
            ):
                raise InstanceBusy()
            job = new.to_job(now)
            conn.execute(SQL["job_insert"], rows.job_values(job))
            conn.execute(SQL["job_name_insert"], (job.project_id, job.name))
            insert_event(conn, moves.created(job))
            return job, True

        job, created = await self._db.write(tx)
        if created and job.run_by_worker:
            self._db.announce()
        return job, created

    async def get_job(self, project_id: str, job_id: str, visible_since: datetime) -> Job | None:
        def read(conn: sqlite3.Connection) -> Job | None:
            row = conn.execute(SQL["job_get_visible"], (job_id, project_id, to_us(visible_since))).fetchone()
            return rows.job(row) if row else None

        return await self._db.read(read)

    async def show_job(self, project_id: str, job_id: str, visible_since: datetime) -> bytes | None:
        return await self._polls.lookup(project_id, job_id, visible_since)

    async def find_job(self, job_id: str) -> Job | None:
        return await self._db.read(lambda conn: locked_job(conn, job_id))

    async def update_job(self, job_id: str, patch: JobPatch, now: datetime) -> Job:
        def tx(conn: sqlite3.Connection) -> Job:
            current = locked_job(conn, job_id)
            if current is None:
                raise JobNotFound()
            if current.run_by_worker:
                raise JobRunByWorker()
            return save(conn, moves.report(current, patch, now))

        return await self._db.write(tx)

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
            filters.add(SQL["filter_created_from"], to_us(where.start_time))
        if where.end_time is not None:
            filters.add(SQL["filter_created_to"], to_us(where.end_time))
        since = to_us(visible_since)

        def read(conn: sqlite3.Connection) -> JobListing:
            # One read transaction, so the page, the count and the names agree with each other.
            page_rows = conn.execute(
                filters.into(SQL["jobs_list"]), (project_id, since, page.size, page.offset, *filters.args)
            ).fetchall()
            (total,) = conn.execute(
                filters.into(SQL["jobs_count"]), (project_id, since, *filters.args)
            ).fetchone()
            names = conn.execute(SQL["job_names_list"], (project_id,)).fetchall()
            return JobListing([rows.job(r) for r in page_rows], total, [n for (n,) in names])

        return await self._db.read(read)

    async def delete_job(self, project_id: str, job_id: str, visible_since: datetime) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                SQL["job_status_visible"], (job_id, project_id, to_us(visible_since))
            ).fetchone()
            if row is None:
                raise JobNotFound()
            if not JobStatus(row[0]).is_final:
                raise JobNotFinished()
            delete_record(conn, job_id)

        await self._db.write(tx)

    async def job_events(self, job_id: str) -> list[JobEvent]:
        def read(conn: sqlite3.Connection) -> list[JobEvent]:
            return [rows.event(r) for r in conn.execute(SQL["job_events_list"], (job_id,))]

        return await self._db.read(read)

    async def request_cancel(
        self, project_id: str, job_ids: list[str], now: datetime, visible_since: datetime
    ) -> list[str]:
        def tx(conn: sqlite3.Connection) -> list[str]:
            for job_id in job_ids:
                row = conn.execute(
                    SQL["job_get_visible"], (job_id, project_id, to_us(visible_since))
                ).fetchone()
                if row is None:
                    raise JobNotFound()
                save(conn, moves.cancel(rows.job(row), now))
            return job_ids

        return await self._db.write(tx)

    async def list_scheduled(
        self, project_id: str, where: ScheduleFilter, offset: int, limit: int, visible_since: datetime
    ) -> tuple[list[Job], int]:
        filters = sql.Filters()
        for fragment, value in (
            (SQL["filter_status"], where.status.value if where.status else None),
            (SQL["filter_id"], where.job_id),
            (SQL["filter_name"], where.job_name),
            (SQL["filter_instance"], where.instance_id),
            (SQL["filter_run_at_from"], None if where.start_time is None else to_us(where.start_time)),
            (SQL["filter_run_at_to"], None if where.end_time is None else to_us(where.end_time)),
        ):
            if value is not None:
                filters.add(fragment, value)
        since = to_us(visible_since)

        def read(conn: sqlite3.Connection) -> tuple[list[Job], int]:
            page_rows = conn.execute(
                filters.into(SQL["scheduled_list"]), (project_id, since, limit, offset, *filters.args)
            ).fetchall()
            (total,) = conn.execute(
                filters.into(SQL["scheduled_count"]), (project_id, since, *filters.args)
            ).fetchone()
            return [rows.job(r) for r in page_rows], total

        return await self._db.read(read)


def locked_job(conn: sqlite3.Connection, job_id: str) -> Job | None:
    """The job; locked where ``conn`` is the writer's, which holds SQLite's one write lock."""
    row = conn.execute(SQL["job_get"], (job_id,)).fetchone()
    return rows.job(row) if row else None


def claimed_job(conn: sqlite3.Connection, claim: Claim) -> Job:
    job = locked_job(conn, claim.job_id)
    if job is None or not holds(job, claim):
        raise LeaseLost()
    return job


def save(conn: sqlite3.Connection, decision: Decision) -> Job:
    """Apply a move decided by domain.moves in the open transaction: a conditional update (the
    row must still be what the decision saw), plus the decided event. Nothing of its own."""
    job = decision.after
    params = stored_params(job)
    if conn.execute(SQL["job_save"], rows.job_save_values(decision.before, job, params)).rowcount != 1:
        raise JobConflict()
    if decision.event is not None:
        insert_event(conn, decision.event)
    return dataclasses.replace(job, params=params)


def insert_event(conn: sqlite3.Connection, event: JobEvent) -> None:
    conn.execute(SQL["job_event_insert"], rows.event_values(event))


def delete_record(conn: sqlite3.Connection, job_id: str) -> None:
    """Delete the job and its history."""
    conn.execute(SQL["job_events_delete"], (job_id,))
    conn.execute(SQL["job_delete"], (job_id,))
