"""The SQLite store: the embedded default (WAL, one file in the data dir).

Reads run on the event loop's thread: a primary-key read in WAL mode takes microseconds and
never waits for a writer. Writes run on one dedicated thread with their own connection, so a
commit's fsync never stalls the loop, and SQLite's single writer is honoured by construction.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson

from taskcenter.domain import moves
from taskcenter.domain.clock import system_clock
from taskcenter.domain.errors import (
    InstanceBusy,
    InstanceNotFound,
    JobConflict,
    JobNotFinished,
    JobNotFound,
    JobRunByWorker,
    LeaseLost,
)
from taskcenter.domain.instance import Backup, DbInstance, InstanceStatus
from taskcenter.domain.instance_queries import BackupFilter, InstanceFilter
from taskcenter.domain.job import Instance, Job, JobEvent, JobPatch, NewJob, stored_params
from taskcenter.domain.moves import Decision
from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User
from taskcenter.domain.requests import JobFilter, Page, ScheduleFilter
from taskcenter.domain.runs import Claim, Outcome, ended, holds, lost
from taskcenter.domain.status import JobStatus
from taskcenter.storage.base import JobListing, LeaseStatus, ProjectInUse, ProjectSummary, project_summaries
from taskcenter.storage.migrations import check_schema, migrations
from taskcenter.storage.rows import dump_sub_tasks, from_us, load_sub_tasks, opt_from_us, to_us
from taskcenter.storage.sqlite_polls import SqlitePolls

T = TypeVar("T")

_JOB_COLUMNS = (
    "id, project_id, name, status, created_us, started_us, ended_us, progress, "
    "instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key, "
    "runnable, run_at_us, attempt, max_attempts, lease_owner, lease_expires_us, "
    "cancel_requested, params, scheduled"
)
_PLACEHOLDERS = ",".join("?" * 23)
_VISIBLE = "(ended_us IS NULL OR ended_us >= ?)"
_STATUS = {s.value: s for s in JobStatus}  # a dict lookup is several times cheaper than JobStatus(x)


def _job(row: tuple[Any, ...]) -> Job:
    return Job(
        id=row[0],
        project_id=row[1],
        name=row[2],
        status=_STATUS[row[3]],
        created=from_us(row[4]),
        started=opt_from_us(row[5]),
        ended=opt_from_us(row[6]),
        progress=row[7],
        instance=Instance(row[8], row[9] or "") if row[8] is not None else None,
        entities=orjson.loads(row[10]),
        fail_reason=row[11],
        sub_tasks=load_sub_tasks(row[12]) if row[12] != "[]" else (),
        idempotency_key=row[13],
        runnable=bool(row[14]),
        run_at=opt_from_us(row[15]),
        attempt=row[16],
        max_attempts=row[17],
        lease_owner=row[18],
        lease_expires=opt_from_us(row[19]),
        cancel_requested=bool(row[20]),
        params=orjson.loads(row[21]) if row[21] != "{}" else {},
        scheduled=bool(row[22]),
    )


_INSTANCE_COLUMNS = "id, project_id, name, status, flavor_ref, port, request, created_us, updated_us"


def _instance(row: tuple[Any, ...]) -> DbInstance:
    return DbInstance(
        id=row[0], project_id=row[1], name=row[2], status=row[3], flavor_ref=row[4], port=row[5],
        request=orjson.loads(row[6]), created=from_us(row[7]), updated=from_us(row[8]),
    )  # fmt: skip


_BACKUP_COLUMNS = "id, project_id, instance_id, name, description, status, size_bytes, begin_us, end_us"


def _backup(row: tuple[Any, ...]) -> Backup:
    return Backup(
        id=row[0], project_id=row[1], instance_id=row[2], name=row[3], description=row[4], status=row[5],
        size_bytes=row[6], begin=from_us(row[7]), end=opt_from_us(row[8]),
    )  # fmt: skip


def _values(job: Job) -> tuple[Any, ...]:
    """A job as the column values of _JOB_COLUMNS, in order."""
    return (
        job.id, job.project_id, job.name, job.status.value, to_us(job.created),
        _opt_us(job.started), _opt_us(job.ended), job.progress,
        job.instance.id if job.instance else None, job.instance.name if job.instance else None,
        orjson.dumps(job.entities).decode(), job.fail_reason, dump_sub_tasks(job.sub_tasks),
        job.idempotency_key, job.runnable, _opt_us(job.run_at), job.attempt, job.max_attempts,
        job.lease_owner, _opt_us(job.lease_expires), job.cancel_requested,
        orjson.dumps(job.params).decode(), job.scheduled,
    )  # fmt: skip


def _opt_us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


# Every connection's, the poll reader's included: reads through a memory map and a larger page
# cache, so random lookups among millions of jobs cost no read() system call each.
_READ_SETTINGS = "PRAGMA busy_timeout=5000; PRAGMA mmap_size=4294967296; PRAGMA cache_size=-65536;"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: an acknowledged job survives a power cut, not only a process crash.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(_READ_SETTINGS)
    return conn


class SqliteStore:
    dialect = "sqlite"

    def __init__(self, reader: sqlite3.Connection, writer: sqlite3.Connection, polls: SqlitePolls) -> None:
        self._reader = reader
        self._writer = writer
        self._polls = polls
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = _connect(path)
        _migrate(writer)
        return cls(_connect(path), writer, SqlitePolls(path, _READ_SETTINGS, asyncio.get_running_loop()))

    async def close(self) -> None:
        await self._write(lambda c: None)
        self._pool.shutdown(wait=True)
        self._polls.close()
        self._reader.close()
        self._writer.close()

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one IMMEDIATE transaction on the writer thread."""

        def run() -> T:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    # Jobs

    async def create_job(self, new: NewJob, now: datetime) -> tuple[Job, bool]:
        def tx(conn: sqlite3.Connection) -> tuple[Job, bool]:
            if new.idempotency_key is not None:
                row = conn.execute(
                    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE project_id = ? AND idempotency_key = ?",
                    (new.project_id, new.idempotency_key),
                ).fetchone()
                if row:
                    return _job(row), False
            if new.exclusive and new.instance is not None:
                busy = conn.execute(
                    "SELECT 1 FROM jobs WHERE instance_id = ? AND ended_us IS NULL LIMIT 1",
                    (new.instance.id,),
                ).fetchone()
                if busy:
                    raise InstanceBusy()
            job = new.to_job(now)
            conn.execute(f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({_PLACEHOLDERS})", _values(job))
            conn.execute(
                "INSERT OR IGNORE INTO job_names (project_id, name) VALUES (?, ?)", (job.project_id, job.name)
            )
            _insert_event(conn, moves.created(job))
            return job, True

        job, created = await self._write(tx)
        if created and job.runnable:
            self._announce()
        return job, created

    def _announce(self) -> None:
        for callback in list(self._listeners):
            callback()

    async def listen(self, callback: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        self._listeners.append(callback)

        async def stop() -> None:
            self._listeners.remove(callback)

        return stop

    async def get_job(self, project_id: str, job_id: str, visible_since: datetime) -> Job | None:
        row = self._reader.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ? AND project_id = ? AND {_VISIBLE}",
            (job_id, project_id, to_us(visible_since)),
        ).fetchone()
        return _job(row) if row else None

    async def show_job(self, project_id: str, job_id: str, visible_since: datetime) -> bytes | None:
        return await self._polls.lookup(project_id, job_id, visible_since)

    async def find_job(self, job_id: str) -> Job | None:
        row = self._reader.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    async def update_job(self, job_id: str, patch: JobPatch, now: datetime) -> Job:
        def tx(conn: sqlite3.Connection) -> Job:
            current = _locked_job(conn, job_id)
            if current is None:
                raise JobNotFound()
            if current.runnable:
                raise JobRunByWorker()
            return _save(conn, moves.report(current, patch, now))

        return await self._write(tx)

    # Engine

    async def claim_jobs(self, worker: str, limit: int, now: datetime | None, lease: timedelta) -> list[Job]:
        def tx(conn: sqlite3.Connection) -> list[Job]:
            now_ = _clock(now)
            rows = conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE runnable = 1 AND status = 'Pending' "
                "AND run_at_us <= ? ORDER BY run_at_us, seq LIMIT ?",
                (to_us(now_), limit),
            ).fetchall()
            return [_save(conn, moves.claim(_job(row), worker, now_, lease)) for row in rows]

        return await self._write(tx)

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime | None, lease: timedelta
    ) -> LeaseStatus:
        def tx(conn: sqlite3.Connection) -> LeaseStatus:
            expires = to_us(_clock(now) + lease)
            held, cancel = set(), set()
            for job_id in job_ids:
                row = conn.execute(
                    "UPDATE jobs SET lease_expires_us = ? WHERE id = ? AND status = 'Running' "
                    "AND lease_owner = ? RETURNING cancel_requested",
                    (expires, job_id, worker),
                ).fetchone()
                if row is not None:
                    held.add(job_id)
                    if row[0]:
                        cancel.add(job_id)
            return LeaseStatus(frozenset(held), frozenset(cancel))

        return await self._write(tx)

    async def report(self, claim: Claim, patch: JobPatch, now: datetime | None) -> Job:
        def tx(conn: sqlite3.Connection) -> Job:
            current = _claimed_job(conn, claim)
            return _save(conn, moves.report(current, dataclasses.replace(patch, status=None), _clock(now)))

        return await self._write(tx)

    async def finish_many(self, outcomes: list[Outcome], now: datetime | None) -> list[Job | None]:
        def tx(conn: sqlite3.Connection) -> list[Job | None]:
            now_ = _clock(now)
            results: list[Job | None] = []
            for outcome in outcomes:
                current = _locked_job(conn, outcome.claim.job_id)
                if current is None or not holds(current, outcome.claim):
                    results.append(None)
                    continue
                results.append(_save(conn, ended(current, outcome, now_)))
            return results

        results = await self._write(tx)
        if any(job is not None and job.status is JobStatus.PENDING for job in results):
            self._announce()  # a retry or a hand-back: due again, now or later
        return results

    async def rescue_expired(self, now: datetime | None, limit: int) -> list[Job]:
        def tx(conn: sqlite3.Connection) -> list[Job]:
            now_ = _clock(now)
            rows = conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE runnable = 1 AND status = 'Running' "
                "AND lease_expires_us < ? ORDER BY lease_expires_us LIMIT ?",
                (to_us(now_), limit),
            ).fetchall()
            return [_save(conn, lost(_job(row), now_)) for row in rows]

        return await self._write(tx)

    async def request_cancel(
        self, project_id: str, job_ids: list[str], now: datetime, visible_since: datetime
    ) -> list[str]:
        def tx(conn: sqlite3.Connection) -> list[str]:
            for job_id in job_ids:
                row = conn.execute(
                    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ? AND project_id = ? AND {_VISIBLE}",
                    (job_id, project_id, to_us(visible_since)),
                ).fetchone()
                if row is None:
                    raise JobNotFound()
                _save(conn, moves.cancel(_job(row), now))
            return job_ids

        return await self._write(tx)

    async def list_scheduled(
        self, project_id: str, where: ScheduleFilter, offset: int, limit: int, visible_since: datetime
    ) -> tuple[list[Job], int]:
        clauses = ["project_id = ?", "scheduled = 1", _VISIBLE]
        params: list[Any] = [project_id, to_us(visible_since)]
        for clause, value in (
            ("status = ?", where.status.value if where.status else None),
            ("id = ?", where.job_id),
            ("name = ?", where.job_name),
            ("instance_id = ?", where.instance_id),
            ("run_at_us >= ?", _opt_us(where.start_time)),
            ("run_at_us <= ?", _opt_us(where.end_time)),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        condition = " AND ".join(clauses)
        conn = self._reader
        conn.execute("BEGIN")
        try:
            rows = conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {condition} "
                "ORDER BY run_at_us DESC, seq DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            (total,) = conn.execute(f"SELECT count(*) FROM jobs WHERE {condition}", params).fetchone()
        finally:
            conn.execute("COMMIT")
        return [_job(r) for r in rows], total

    async def purge_ended(self, before: datetime, limit: int) -> int:
        def tx(conn: sqlite3.Connection) -> int:
            ids = [
                job_id
                for (job_id,) in conn.execute(
                    "SELECT id FROM jobs WHERE ended_us IS NOT NULL AND ended_us < ? LIMIT ?",
                    (to_us(before), limit),
                )
            ]
            for job_id in ids:
                conn.execute("DELETE FROM job_events WHERE job_id = ?", (job_id,))
                conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            return len(ids)

        return await self._write(tx)

    async def try_lead(self, duty: str, owner: str, now: datetime | None, ttl: timedelta) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            now_ = _clock(now)
            row = conn.execute(
                "INSERT INTO leaders (name, owner, expires_us) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_us = excluded.expires_us "
                "WHERE leaders.owner = excluded.owner OR leaders.expires_us < ? RETURNING owner",
                (duty, owner, to_us(now_ + ttl), to_us(now_)),
            ).fetchone()
            return row is not None

        return await self._write(tx)

    async def resign(self, duty: str, owner: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM leaders WHERE name = ? AND owner = ?", (duty, owner))

        await self._write(tx)

    async def list_jobs(
        self, project_id: str, where: JobFilter, page: Page, visible_since: datetime
    ) -> JobListing:
        clauses = ["project_id = ?", _VISIBLE]
        params: list[Any] = [project_id, to_us(visible_since)]
        if where.status is not None:
            clauses.append("status = ?")
            params.append(where.status.value)
        if where.job_name is not None:
            clauses.append("name = ?")
            params.append(where.job_name)
        if where.job_id is not None:
            clauses.append("id = ?")
            params.append(where.job_id)
        if where.start_time is not None:
            clauses.append("created_us >= ?")
            params.append(to_us(where.start_time))
        if where.end_time is not None:
            clauses.append("created_us <= ?")
            params.append(to_us(where.end_time))
        condition = " AND ".join(clauses)
        # One read transaction, so the page, the count and the names agree with each other.
        conn = self._reader
        conn.execute("BEGIN")
        try:
            rows = conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {condition} ORDER BY seq DESC LIMIT ? OFFSET ?",
                (*params, page.size, page.offset),
            ).fetchall()
            (total,) = conn.execute(f"SELECT count(*) FROM jobs WHERE {condition}", params).fetchone()
            names = conn.execute(
                "SELECT name FROM job_names WHERE project_id = ? ORDER BY name", (project_id,)
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        return JobListing([_job(r) for r in rows], total, [n for (n,) in names])

    async def delete_job(self, project_id: str, job_id: str, visible_since: datetime) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                f"SELECT status FROM jobs WHERE id = ? AND project_id = ? AND {_VISIBLE}",
                (job_id, project_id, to_us(visible_since)),
            ).fetchone()
            if row is None:
                raise JobNotFound()
            if not JobStatus(row[0]).is_final:
                raise JobNotFinished("Only a finished job's record can be deleted.")
            conn.execute("DELETE FROM job_events WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

        await self._write(tx)

    async def job_events(self, job_id: str) -> list[JobEvent]:
        rows = self._reader.execute(
            "SELECT job_id, from_status, to_status, at_us, detail "
            "FROM job_events WHERE job_id = ? ORDER BY seq",
            (job_id,),
        ).fetchall()
        return [
            JobEvent(r[0], JobStatus(r[1]) if r[1] else None, JobStatus(r[2]), from_us(r[3]), r[4])
            for r in rows
        ]

    # Instances

    async def create_instance(self, instance: DbInstance) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO instances ({_INSTANCE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    instance.id, instance.project_id, instance.name, instance.status,
                    instance.flavor_ref, instance.port, orjson.dumps(instance.request).decode(),
                    to_us(instance.created), to_us(instance.updated),
                ),
            )  # fmt: skip

        await self._write(tx)

    async def get_instance(self, project_id: str | None, instance_id: str) -> DbInstance | None:
        row = self._reader.execute(
            f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE id = ?", (instance_id,)
        ).fetchone()
        if row is None or (project_id is not None and row[1] != project_id):
            return None
        return _instance(row)

    async def list_instances(
        self, project_id: str, where: InstanceFilter, offset: int, limit: int
    ) -> tuple[list[DbInstance], int]:
        if where.impossible:
            return [], 0
        clauses = ["project_id = ?", "status <> ?"]
        params: list[Any] = [project_id, InstanceStatus.DELETED]
        for column, match in (("id", where.id), ("name", where.name)):
            if match is not None:
                clauses.append(f"instr({column}, ?) > 0" if match.contains else f"{column} = ?")
                params.append(match.text)
        for field, value in (("vpc_id", where.vpc_id), ("subnet_id", where.subnet_id)):
            if value is not None:
                clauses.append(f"json_extract(request, '$.{field}') = ?")
                params.append(value)
        for key, value in where.tags:
            # Read through the whole document's path, which is NULL (never an error) for a
            # malformed tag, where json_extract(t.value, ...) would fail on a non-object.
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(request, '$.tags') AS t "
                "WHERE json_extract(request, '$.tags[' || t.key || '].key') = ? "
                "AND json_extract(request, '$.tags[' || t.key || '].value') = ?)"
            )
            params += [key, value]
        if where.with_address:
            clauses.append("status NOT IN (?, ?)")
            params += [InstanceStatus.CREATING, InstanceStatus.CREATEFAIL]
        condition = " AND ".join(clauses)
        conn = self._reader
        conn.execute("BEGIN")
        try:
            rows = conn.execute(
                f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {condition} "
                "ORDER BY created_us, id LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            (total,) = conn.execute(f"SELECT count(*) FROM instances WHERE {condition}", params).fetchone()
        finally:
            conn.execute("COMMIT")
        return [_instance(r) for r in rows], total

    async def update_instance(
        self,
        instance_id: str,
        now: datetime,
        *,
        status: str | None = None,
        port: int | None = None,
        flavor_ref: str | None = None,
    ) -> DbInstance:
        def tx(conn: sqlite3.Connection) -> DbInstance:
            row = conn.execute(
                "UPDATE instances SET status = COALESCE(?, status), port = COALESCE(?, port), "
                "flavor_ref = COALESCE(?, flavor_ref), updated_us = ? WHERE id = ? "
                f"RETURNING {_INSTANCE_COLUMNS}",
                (status, port, flavor_ref, to_us(now), instance_id),
            ).fetchone()
            if row is None:
                raise InstanceNotFound()
            return _instance(row)

        return await self._write(tx)

    async def instances_with_status(self, statuses: list[str]) -> list[DbInstance]:
        marks = ",".join("?" * len(statuses))
        rows = self._reader.execute(
            f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE status IN ({marks})", statuses
        ).fetchall()
        return [_instance(r) for r in rows]

    async def unfinished_job_of_instance(self, instance_id: str) -> Job | None:
        row = self._reader.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_id = ? AND ended_us IS NULL LIMIT 1",
            (instance_id,),
        ).fetchone()
        return _job(row) if row else None

    async def instance_has_jobs(self, project_id: str, instance_id: str, visible_since: datetime) -> bool:
        row = self._reader.execute(
            f"SELECT 1 FROM jobs WHERE project_id = ? AND instance_id = ? AND {_VISIBLE} LIMIT 1",
            (project_id, instance_id, to_us(visible_since)),
        ).fetchone()
        return row is not None

    async def save_backup(self, backup: Backup) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT OR REPLACE INTO backups ({_BACKUP_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    backup.id, backup.project_id, backup.instance_id, backup.name, backup.description,
                    backup.status, backup.size_bytes, to_us(backup.begin), _opt_us(backup.end),
                ),
            )  # fmt: skip

        await self._write(tx)

    async def get_backup(self, project_id: str, backup_id: str) -> Backup | None:
        row = self._reader.execute(
            f"SELECT {_BACKUP_COLUMNS} FROM backups WHERE id = ? AND project_id = ?", (backup_id, project_id)
        ).fetchone()
        return _backup(row) if row else None

    async def list_backups(
        self, project_id: str, where: BackupFilter, offset: int, limit: int
    ) -> tuple[list[Backup], int]:
        if where.impossible:
            return [], 0
        clauses = ["project_id = ?"]
        params: list[Any] = [project_id]
        for clause, value in (
            ("instance_id = ?", where.instance_id),
            ("id = ?", where.backup_id),
            ("name = ?", where.name),
            ("begin_us >= ?", _opt_us(where.begin_time)),
            ("begin_us <= ?", _opt_us(where.end_time)),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        if where.instance_name is not None:
            clauses.append("instance_id IN (SELECT id FROM instances WHERE project_id = ? AND name = ?)")
            params += [project_id, where.instance_name]
        condition = " AND ".join(clauses)
        conn = self._reader
        conn.execute("BEGIN")
        try:
            rows = conn.execute(
                f"SELECT {_BACKUP_COLUMNS} FROM backups WHERE {condition} "
                "ORDER BY begin_us DESC, id LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            (total,) = conn.execute(f"SELECT count(*) FROM backups WHERE {condition}", params).fetchone()
        finally:
            conn.execute("COMMIT")
        return [_backup(r) for r in rows], total

    # Identity

    async def create_identity(self, project: Project, user: User, key: AccessKey) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            now = to_us(datetime.now(UTC))
            try:
                conn.execute(
                    "INSERT INTO projects (id, name, created_us) VALUES (?,?,?)",
                    (project.id, project.name, now),
                )
                conn.execute(
                    "INSERT INTO users (id, name, project_id, password_hash, is_admin, created_us) "
                    "VALUES (?,?,?,?,?,?)",
                    (user.id, user.name, user.project_id, user.password_hash, user.is_admin, now),
                )
            except sqlite3.IntegrityError:
                raise _Rollback from None  # name taken: undo the project row too
            conn.execute(
                "INSERT INTO access_keys (access_key, secret_key, user_id, created_us) VALUES (?,?,?,?)",
                (key.access_key, key.secret_key, key.user_id, now),
            )
            return True

        try:
            return await self._write(tx)
        except _Rollback:
            return False

    async def has_users(self) -> bool:
        return self._reader.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    async def get_user_by_name(self, name: str) -> User | None:
        row = self._reader.execute(
            "SELECT id, name, project_id, password_hash, is_admin FROM users WHERE name = ?",
            (name,),
        ).fetchone()
        return User(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    async def get_project(self, project_id: str) -> Project | None:
        row = self._reader.execute("SELECT id, name FROM projects WHERE id = ?", (project_id,)).fetchone()
        return Project(row[0], row[1]) if row else None

    async def get_project_by_name(self, name: str) -> Project | None:
        row = self._reader.execute("SELECT id, name FROM projects WHERE name = ?", (name,)).fetchone()
        return Project(row[0], row[1]) if row else None

    async def get_access_key(self, access_key: str) -> tuple[AccessKey, Principal] | None:
        row = self._reader.execute(
            "SELECT k.access_key, k.secret_key, u.id, u.name, p.id, p.name, u.is_admin "
            "FROM access_keys k JOIN users u ON u.id = k.user_id "
            "JOIN projects p ON p.id = u.project_id WHERE k.access_key = ?",
            (access_key,),
        ).fetchone()
        if row is None:
            return None
        return AccessKey(row[0], row[1], row[2]), Principal(row[2], row[3], row[4], row[5], bool(row[6]))

    async def save_token(self, token: IssuedToken) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            p = token.principal
            conn.execute(
                "INSERT INTO tokens (token_hash, user_id, project_id, issued_us, expires_us) "
                "VALUES (?,?,?,?,?)",
                (token.token_hash, p.user_id, p.project_id, to_us(token.issued_at),
                 to_us(token.expires_at)),
            )  # fmt: skip

        await self._write(tx)

    async def get_token(self, token_hash: str) -> IssuedToken | None:
        row = self._reader.execute(
            "SELECT t.token_hash, u.id, u.name, p.id, p.name, u.is_admin, t.issued_us, t.expires_us "
            "FROM tokens t JOIN users u ON u.id = t.user_id JOIN projects p ON p.id = t.project_id "
            "WHERE t.token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        principal = Principal(row[1], row[2], row[3], row[4], bool(row[5]))
        return IssuedToken(row[0], principal, from_us(row[6]), from_us(row[7]))

    async def list_projects(self) -> list[ProjectSummary]:
        rows = self._reader.execute(
            "SELECT p.id, p.name, p.created_us, u.name FROM projects p "
            "LEFT JOIN users u ON u.project_id = p.id ORDER BY p.created_us, p.id, u.name"
        ).fetchall()
        return project_summaries((r[0], r[1], from_us(r[2]), r[3]) for r in rows)

    async def delete_project(self, project_id: str) -> ProjectInUse | None:
        def tx(conn: sqlite3.Connection) -> ProjectInUse | None:
            (instances,) = conn.execute(
                "SELECT count(*) FROM instances WHERE project_id = ? AND status <> ?",
                (project_id, InstanceStatus.DELETED),
            ).fetchone()
            (jobs,) = conn.execute(
                "SELECT count(*) FROM jobs WHERE project_id = ? AND ended_us IS NULL", (project_id,)
            ).fetchone()
            if instances or jobs:
                return ProjectInUse(instances, jobs)
            users = "SELECT id FROM users WHERE project_id = ?"
            conn.execute(
                f"DELETE FROM tokens WHERE project_id = ? OR user_id IN ({users})", (project_id, project_id)
            )
            conn.execute(f"DELETE FROM access_keys WHERE user_id IN ({users})", (project_id,))
            conn.execute("DELETE FROM users WHERE project_id = ?", (project_id,))
            conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))
            return None

        return await self._write(tx)

    async def reset_credentials(self, user_id: str, password_hash: str, key: AccessKey | None) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            updated = conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            ).rowcount
            if updated != 1:
                return False
            conn.execute("DELETE FROM tokens WHERE user_id = ?", (user_id,))
            if key is not None:
                conn.execute("DELETE FROM access_keys WHERE user_id = ?", (user_id,))
                conn.execute(
                    "INSERT INTO access_keys (access_key, secret_key, user_id, created_us) VALUES (?,?,?,?)",
                    (key.access_key, key.secret_key, user_id, to_us(datetime.now(UTC))),
                )
            return True

        return await self._write(tx)


class _Rollback(Exception):
    pass


def _clock(now: datetime | None) -> datetime:
    """``now`` if given (tests pin time), else this machine's: one node has only one clock."""
    return now if now is not None else system_clock()


def _locked_job(conn: sqlite3.Connection, job_id: str) -> Job | None:
    # The writer thread holds SQLite's one write lock (BEGIN IMMEDIATE), so this read is locked.
    row = conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return _job(row) if row else None


def _claimed_job(conn: sqlite3.Connection, claim: Claim) -> Job:
    job = _locked_job(conn, claim.job_id)
    if job is None or not holds(job, claim):
        raise LeaseLost()
    return job


def _save(conn: sqlite3.Connection, decision: Decision) -> Job:
    """Apply a decided move in the open transaction: a conditional update (the row must still be
    what the decision saw), plus its event."""
    before, job = decision.before, decision.after
    params = stored_params(job)
    cursor = conn.execute(
        "UPDATE jobs SET status = ?, started_us = ?, ended_us = ?, progress = ?, instance_id = ?, "
        "instance_name = ?, entities = ?, fail_reason = ?, sub_tasks = ?, run_at_us = ?, attempt = ?, "
        "lease_owner = ?, lease_expires_us = ?, cancel_requested = ?, params = ? "
        "WHERE id = ? AND status = ? AND attempt = ? AND lease_owner IS ? AND cancel_requested = ?",
        (
            job.status.value, _opt_us(job.started), _opt_us(job.ended), job.progress,
            job.instance.id if job.instance else None, job.instance.name if job.instance else None,
            orjson.dumps(job.entities).decode(), job.fail_reason, dump_sub_tasks(job.sub_tasks),
            _opt_us(job.run_at), job.attempt, job.lease_owner, _opt_us(job.lease_expires),
            job.cancel_requested, orjson.dumps(params).decode(), job.id,
            before.status.value, before.attempt, before.lease_owner, before.cancel_requested,
        ),
    )  # fmt: skip
    if cursor.rowcount != 1:
        raise JobConflict()
    if decision.event is not None:
        _insert_event(conn, decision.event)
    return dataclasses.replace(job, params=params)


def _insert_event(conn: sqlite3.Connection, event: JobEvent) -> None:
    conn.execute(
        "INSERT INTO job_events (job_id, from_status, to_status, at_us, detail) VALUES (?,?,?,?,?)",
        (
            event.job_id,
            event.from_status.value if event.from_status else None,
            event.to_status.value,
            to_us(event.at),
            event.detail,
        ),
    )


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        applied = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        for migration in migrations("sqlite"):
            if migration.version in applied:
                continue
            # executescript would COMMIT our transaction; run the statements one by one.
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
            applied.add(migration.version)
        check_schema("sqlite", schema_of(conn), sorted(applied))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise RuntimeError(f"incomplete SQL statement in migration: {buffer[:80]!r}")
    return statements


def schema_of(conn: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: {row[1] for row in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
