"""The PostgreSQL store: for several taskcenter nodes sharing one database."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from taskcenter.domain import moves
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
from taskcenter.domain.wire import sub_task_to_json
from taskcenter.storage.base import JobListing, LeaseStatus, ProjectInUse, ProjectSummary, project_summaries
from taskcenter.storage.migrations import check_schema, migrations
from taskcenter.storage.postgres_listen import Listener
from taskcenter.storage.postgres_polls import PostgresPolls
from taskcenter.storage.rows import load_sub_tasks

_NO_JOB = "00000000-0000-4000-8000-000000000000"
_JOB_COLUMNS = (
    "id, project_id, name, status, created_at, started_at, ended_at, progress, "
    "instance_id, instance_name, entities, fail_reason, sub_tasks, idempotency_key, "
    "runnable, run_at, attempt, max_attempts, lease_owner, lease_expires, "
    "cancel_requested, params, scheduled"
)
_J_COLUMNS = ", ".join(f"j.{c.strip()}" for c in _JOB_COLUMNS.split(","))
_PLACEHOLDERS = ",".join(f"${i}" for i in range(1, 24))
_STATUS = {s.value: s for s in JobStatus}  # a dict lookup is several times cheaper than JobStatus(x)
# What the helpers below run on: a pool's connection proxy (both work, the types differ).
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
JOBS_CHANNEL = "taskcenter_jobs"
# Any constant works: it only has to be the same for every taskcenter node.
_MIGRATION_LOCK = 0x7A5C_0001


def _job(row: asyncpg.Record) -> Job:
    return Job(
        id=str(row[0]),
        project_id=row[1],
        name=row[2],
        status=_STATUS[row[3]],
        created=row[4],
        started=row[5],
        ended=row[6],
        progress=row[7],
        instance=Instance(row[8], row[9] or "") if row[8] is not None else None,
        entities=row[10],
        fail_reason=row[11],
        sub_tasks=load_sub_tasks(row[12]) if row[12] else (),
        idempotency_key=row[13],
        runnable=row[14],
        run_at=row[15],
        attempt=row[16],
        max_attempts=row[17],
        lease_owner=row[18],
        lease_expires=row[19],
        cancel_requested=row[20],
        params=row[21],
        scheduled=row[22],
    )


_INSTANCE_COLUMNS = "id, project_id, name, status, flavor_ref, port, request, created_at, updated_at"


def _instance(row: asyncpg.Record) -> DbInstance:
    return DbInstance(
        id=row[0], project_id=row[1], name=row[2], status=row[3], flavor_ref=row[4], port=row[5],
        request=row[6], created=row[7], updated=row[8],
    )  # fmt: skip


_BACKUP_COLUMNS = "id, project_id, instance_id, name, description, status, size_bytes, begin_at, end_at"


def _backup(row: asyncpg.Record) -> Backup:
    return Backup(
        id=row[0], project_id=row[1], instance_id=row[2], name=row[3], description=row[4], status=row[5],
        size_bytes=row[6], begin=row[7], end=row[8],
    )  # fmt: skip


def _values(job: Job) -> tuple[Any, ...]:
    """A job as the column values of _JOB_COLUMNS, in order."""
    return (
        job.id, job.project_id, job.name, job.status.value, job.created, job.started, job.ended,
        job.progress, job.instance.id if job.instance else None,
        job.instance.name if job.instance else None, job.entities, job.fail_reason,
        [sub_task_to_json(s) for s in job.sub_tasks], job.idempotency_key, job.runnable,
        job.run_at, job.attempt, job.max_attempts, job.lease_owner, job.lease_expires,
        job.cancel_requested, job.params, job.scheduled,
    )  # fmt: skip


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


class PostgresStore:
    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._url = url
        self._polls = PostgresPolls(url, asyncio.get_running_loop())

    @classmethod
    async def open(cls, url: str, *, min_size: int = 2, max_size: int = 10) -> PostgresStore:
        conn = await asyncpg.connect(url)
        try:
            await _migrate(conn)
        finally:
            await conn.close()
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=_init_connection)
        store = cls(pool, url)
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

    # Jobs

    async def create_job(self, new: NewJob, now: datetime) -> tuple[Job, bool]:
        job = new.to_job(now)
        async with self._pool.acquire() as conn, conn.transaction():
            if new.exclusive and new.instance is not None:
                # Serialises operations on one instance across nodes until this commits.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", new.instance.id)
                busy = await conn.fetchval(
                    "SELECT 1 FROM jobs WHERE instance_id = $1 AND ended_at IS NULL LIMIT 1",
                    new.instance.id,
                )
                if busy:
                    raise InstanceBusy()
            row = await conn.fetchrow(
                f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({_PLACEHOLDERS}) "
                "ON CONFLICT (project_id, idempotency_key) WHERE idempotency_key IS NOT NULL "
                "DO NOTHING RETURNING seq",
                *_values(job),
            )
            if row is None:
                existing = await conn.fetchrow(
                    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE project_id = $1 AND idempotency_key = $2",
                    new.project_id,
                    new.idempotency_key,
                )
                assert existing is not None
                return _job(existing), False
            await _insert_event(conn, moves.created(job))
            await conn.execute(
                "INSERT INTO job_names (project_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                job.project_id,
                job.name,
            )
            if job.runnable:
                await conn.execute("SELECT pg_notify($1, $2)", JOBS_CHANNEL, job.id)
            return job, True

    async def get_job(self, project_id: str, job_id: str, visible_since: datetime) -> Job | None:
        row = await self._pool.fetchrow(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = $1 AND project_id = $2 "
            "AND (ended_at IS NULL OR ended_at >= $3)",
            job_id,
            project_id,
            visible_since,
        )
        return _job(row) if row else None

    async def show_job(self, project_id: str, job_id: str, visible_since: datetime) -> bytes | None:
        return await self._polls.lookup(project_id, job_id, visible_since)

    async def find_job(self, job_id: str) -> Job | None:
        row = await self._pool.fetchrow(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = $1", job_id)
        return _job(row) if row else None

    async def update_job(self, job_id: str, patch: JobPatch, now: datetime) -> Job:
        async with self._pool.acquire() as conn, conn.transaction():
            current = await _locked_job(conn, job_id)
            if current is None:
                raise JobNotFound()
            if current.runnable:
                raise JobRunByWorker()
            [job] = await _apply(conn, [moves.report(current, patch, now)])
            return job

    # Engine

    async def claim_jobs(self, worker: str, limit: int, now: datetime | None, lease: timedelta) -> list[Job]:
        # SKIP LOCKED lets concurrent workers each take different due jobs without waiting.
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"{_CLOCK} SELECT {_JOB_COLUMNS}, (SELECT now FROM clock) FROM jobs "
                "WHERE runnable AND status = 'Pending' AND run_at <= (SELECT now FROM clock) "
                "ORDER BY run_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                limit,
            )
            return await _apply(conn, [moves.claim(_job(row), worker, row[-1], lease) for row in rows])

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime | None, lease: timedelta
    ) -> LeaseStatus:
        rows = await self._pool.fetch(
            f"{_CLOCK} UPDATE jobs SET lease_expires = (SELECT now FROM clock) + $4::interval "
            "WHERE id = ANY($2::uuid[]) AND status = 'Running' AND lease_owner = $3 "
            "RETURNING id, cancel_requested",
            now,
            job_ids,
            worker,
            lease,
        )
        return LeaseStatus(frozenset(str(r[0]) for r in rows), frozenset(str(r[0]) for r in rows if r[1]))

    async def report(self, claim: Claim, patch: JobPatch, now: datetime | None) -> Job:
        async with self._pool.acquire() as conn, conn.transaction():
            now = await _clock(conn, now)
            current = await _claimed_job(conn, claim)
            [job] = await _apply(conn, [moves.report(current, dataclasses.replace(patch, status=None), now)])
            return job

    async def finish_many(self, outcomes: list[Outcome], now: datetime | None) -> list[Job | None]:
        async with self._pool.acquire() as conn, conn.transaction():
            now = await _clock(conn, now)
            rows = await conn.fetch(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[]) FOR UPDATE",
                [o.claim.job_id for o in outcomes],
            )
            current = {str(row[0]): _job(row) for row in rows}
            held = [
                (o, job) for o in outcomes if (job := current.get(o.claim.job_id)) and holds(job, o.claim)
            ]
            applied = await _apply(conn, [ended(job, o, now) for o, job in held])
            if any(job.status is JobStatus.PENDING for job in applied):
                await conn.execute("SELECT pg_notify($1, '')", JOBS_CHANNEL)  # due again
        by_id = {job.id: job for job in applied}
        return [by_id.get(o.claim.job_id) for o in outcomes]

    async def rescue_expired(self, now: datetime | None, limit: int) -> list[Job]:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"{_CLOCK} SELECT {_JOB_COLUMNS}, (SELECT now FROM clock) FROM jobs "
                "WHERE runnable AND status = 'Running' AND lease_expires < (SELECT now FROM clock) "
                "ORDER BY lease_expires LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                limit,
            )
            return await _apply(conn, [lost(_job(row), row[-1]) for row in rows])

    async def request_cancel(
        self, project_id: str, job_ids: list[str], now: datetime, visible_since: datetime
    ) -> list[str]:
        async with self._pool.acquire() as conn, conn.transaction():
            decisions = []
            for job_id in job_ids:
                row = await conn.fetchrow(
                    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = $1 AND project_id = $2 "
                    "AND (ended_at IS NULL OR ended_at >= $3) FOR UPDATE",
                    job_id,
                    project_id,
                    visible_since,
                )
                if row is None:
                    raise JobNotFound()
                decisions.append(moves.cancel(_job(row), now))
            await _apply(conn, decisions)
            return job_ids

    async def list_scheduled(
        self, project_id: str, where: ScheduleFilter, offset: int, limit: int, visible_since: datetime
    ) -> tuple[list[Job], int]:
        params: list[Any] = [project_id, visible_since]
        clauses = ["project_id = $1", "scheduled", "(ended_at IS NULL OR ended_at >= $2)"]
        for clause, value in (
            ("status = {}", where.status.value if where.status else None),
            ("id = {}::uuid", where.job_id),
            ("name = {}", where.job_name),
            ("instance_id = {}", where.instance_id),
            ("run_at >= {}", where.start_time),
            ("run_at <= {}", where.end_time),
        ):
            if value is not None:
                params.append(value)
                clauses.append(clause.format(f"${len(params)}"))
        condition = " AND ".join(clauses)
        n = len(params)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            rows = await conn.fetch(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {condition} "
                f"ORDER BY run_at DESC, seq DESC LIMIT ${n + 1} OFFSET ${n + 2}",
                *params, limit, offset,
            )  # fmt: skip
            total = await conn.fetchval(f"SELECT count(*) FROM jobs WHERE {condition}", *params)
        return [_job(r) for r in rows], total

    async def purge_ended(self, before: datetime, limit: int) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            ids = [
                r[0]
                for r in await conn.fetch(
                    "SELECT id FROM jobs WHERE ended_at IS NOT NULL AND ended_at < $1 LIMIT $2 "
                    "FOR UPDATE SKIP LOCKED",
                    before,
                    limit,
                )
            ]
            await conn.execute("DELETE FROM job_events WHERE job_id = ANY($1::uuid[])", ids)
            await conn.execute("DELETE FROM jobs WHERE id = ANY($1::uuid[])", ids)
            return len(ids)

    async def try_lead(self, duty: str, owner: str, now: datetime | None, ttl: timedelta) -> bool:
        row = await self._pool.fetchrow(
            f"{_CLOCK} INSERT INTO leaders (name, owner, expires) SELECT $2, $3, now + $4::interval "
            "FROM clock ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires "
            "WHERE leaders.owner = excluded.owner OR leaders.expires < (SELECT now FROM clock) "
            "RETURNING owner",
            now,
            duty,
            owner,
            ttl,
        )
        return row is not None

    async def resign(self, duty: str, owner: str) -> None:
        await self._pool.execute("DELETE FROM leaders WHERE name = $1 AND owner = $2", duty, owner)

    async def listen(self, callback: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """Call ``callback`` whenever a runnable job is enqueued; returns the unsubscriber.

        On a connection of its own, restored with backoff whenever it is lost (postgres_listen).
        """
        listener = Listener(self._listen_connection, JOBS_CHANNEL, callback)
        await listener.start()
        return listener.stop

    async def _listen_connection(self) -> asyncpg.Connection:
        # Named, so an operator can tell it in pg_stat_activity from the pool's and the polls'.
        return await asyncpg.connect(
            self._url, timeout=10, server_settings={"application_name": "taskcenter-listen"}
        )

    async def list_jobs(
        self, project_id: str, where: JobFilter, page: Page, visible_since: datetime
    ) -> JobListing:
        params: list[Any] = [project_id, visible_since]
        clauses = ["project_id = $1", "(ended_at IS NULL OR ended_at >= $2)"]

        def add(clause: str, value: Any) -> None:
            params.append(value)
            clauses.append(clause.format(f"${len(params)}"))

        if where.status is not None:
            add("status = {}", where.status.value)
        if where.job_name is not None:
            add("name = {}", where.job_name)
        if where.job_id is not None:
            add("id = {}::uuid", where.job_id)
        if where.start_time is not None:
            add("created_at >= {}", where.start_time)
        if where.end_time is not None:
            add("created_at <= {}", where.end_time)
        condition = " AND ".join(clauses)
        n = len(params)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            # One snapshot, so the page, the count and the names agree with each other.
            rows = await conn.fetch(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {condition} "
                f"ORDER BY seq DESC LIMIT ${n + 1} OFFSET ${n + 2}",
                *params, page.size, page.offset,
            )  # fmt: skip
            total = await conn.fetchval(f"SELECT count(*) FROM jobs WHERE {condition}", *params)
            names = await conn.fetch(
                "SELECT name FROM job_names WHERE project_id = $1 ORDER BY name", project_id
            )
        return JobListing([_job(r) for r in rows], total, [r[0] for r in names])

    async def delete_job(self, project_id: str, job_id: str, visible_since: datetime) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(
                "SELECT status FROM jobs WHERE id = $1 AND project_id = $2 "
                "AND (ended_at IS NULL OR ended_at >= $3) FOR UPDATE",
                job_id,
                project_id,
                visible_since,
            )
            if status is None:
                raise JobNotFound()
            if not JobStatus(status).is_final:
                raise JobNotFinished("Only a finished job's record can be deleted.")
            await conn.execute("DELETE FROM job_events WHERE job_id = $1", job_id)
            await conn.execute("DELETE FROM jobs WHERE id = $1", job_id)

    async def job_events(self, job_id: str) -> list[JobEvent]:
        rows = await self._pool.fetch(
            "SELECT job_id, from_status, to_status, at, detail "
            "FROM job_events WHERE job_id = $1 ORDER BY seq",
            job_id,
        )
        return [
            JobEvent(str(r[0]), JobStatus(r[1]) if r[1] else None, JobStatus(r[2]), r[3], r[4]) for r in rows
        ]

    # Instances

    async def create_instance(self, instance: DbInstance) -> None:
        await self._pool.execute(
            f"INSERT INTO instances ({_INSTANCE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            instance.id, instance.project_id, instance.name, instance.status, instance.flavor_ref,
            instance.port, instance.request, instance.created, instance.updated,
        )  # fmt: skip

    async def get_instance(self, project_id: str | None, instance_id: str) -> DbInstance | None:
        row = await self._pool.fetchrow(
            f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE id = $1", instance_id
        )
        if row is None or (project_id is not None and row[1] != project_id):
            return None
        return _instance(row)

    async def list_instances(
        self, project_id: str, where: InstanceFilter, offset: int, limit: int
    ) -> tuple[list[DbInstance], int]:
        if where.impossible:
            return [], 0
        params: list[Any] = [project_id, InstanceStatus.DELETED]
        clauses = ["project_id = $1", "status <> $2"]

        def add(clause: str, value: Any) -> None:
            params.append(value)
            clauses.append(clause.format(f"${len(params)}"))

        for column, match in (("id", where.id), ("name", where.name)):
            if match is not None:
                add(f"strpos({column}, {{}}) > 0" if match.contains else f"{column} = {{}}", match.text)
        for field, value in (("vpc_id", where.vpc_id), ("subnet_id", where.subnet_id)):
            if value is not None:
                add(f"request->>'{field}' = {{}}", value)
        for key, value in where.tags:
            add("request->'tags' @> {}::jsonb", [{"key": key, "value": value}])
        if where.with_address:
            add("status <> ALL({}::text[])", [InstanceStatus.CREATING, InstanceStatus.CREATEFAIL])
        condition = " AND ".join(clauses)
        n = len(params)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            rows = await conn.fetch(
                f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {condition} "
                f"ORDER BY created_at, id LIMIT ${n + 1} OFFSET ${n + 2}",
                *params, limit, offset,
            )  # fmt: skip
            total = await conn.fetchval(f"SELECT count(*) FROM instances WHERE {condition}", *params)
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
        row = await self._pool.fetchrow(
            "UPDATE instances SET status = COALESCE($1, status), port = COALESCE($2, port), "
            "flavor_ref = COALESCE($3, flavor_ref), updated_at = $4 WHERE id = $5 "
            f"RETURNING {_INSTANCE_COLUMNS}",
            status,
            port,
            flavor_ref,
            now,
            instance_id,
        )
        if row is None:
            raise InstanceNotFound()
        return _instance(row)

    async def instances_with_status(self, statuses: list[str]) -> list[DbInstance]:
        rows = await self._pool.fetch(
            f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE status = ANY($1::text[])", statuses
        )
        return [_instance(r) for r in rows]

    async def unfinished_job_of_instance(self, instance_id: str) -> Job | None:
        row = await self._pool.fetchrow(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_id = $1 AND ended_at IS NULL LIMIT 1",
            instance_id,
        )
        return _job(row) if row else None

    async def instance_has_jobs(self, project_id: str, instance_id: str, visible_since: datetime) -> bool:
        found = await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE project_id = $1 AND instance_id = $2 "
            "AND (ended_at IS NULL OR ended_at >= $3))",
            project_id,
            instance_id,
            visible_since,
        )
        return bool(found)

    async def save_backup(self, backup: Backup) -> None:
        await self._pool.execute(
            f"INSERT INTO backups ({_BACKUP_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, size_bytes = excluded.size_bytes, "
            "end_at = excluded.end_at",
            backup.id, backup.project_id, backup.instance_id, backup.name, backup.description,
            backup.status, backup.size_bytes, backup.begin, backup.end,
        )  # fmt: skip

    async def get_backup(self, project_id: str, backup_id: str) -> Backup | None:
        row = await self._pool.fetchrow(
            f"SELECT {_BACKUP_COLUMNS} FROM backups WHERE id = $1 AND project_id = $2", backup_id, project_id
        )
        return _backup(row) if row else None

    async def list_backups(
        self, project_id: str, where: BackupFilter, offset: int, limit: int
    ) -> tuple[list[Backup], int]:
        if where.impossible:
            return [], 0
        params: list[Any] = [project_id]
        clauses = ["project_id = $1"]
        for clause, value in (
            ("instance_id = {}", where.instance_id),
            ("id = {}", where.backup_id),
            ("name = {}", where.name),
            ("begin_at >= {}", where.begin_time),
            ("begin_at <= {}", where.end_time),
            ("instance_id IN (SELECT id FROM instances WHERE project_id = $1 AND name = {})",
             where.instance_name),
        ):  # fmt: skip
            if value is not None:
                params.append(value)
                clauses.append(clause.format(f"${len(params)}"))
        condition = " AND ".join(clauses)
        n = len(params)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            rows = await conn.fetch(
                f"SELECT {_BACKUP_COLUMNS} FROM backups WHERE {condition} "
                f"ORDER BY begin_at DESC, id LIMIT ${n + 1} OFFSET ${n + 2}",
                *params, limit, offset,
            )  # fmt: skip
            total = await conn.fetchval(f"SELECT count(*) FROM backups WHERE {condition}", *params)
        return [_backup(r) for r in rows], total

    # Identity

    async def create_identity(self, project: Project, user: User, key: AccessKey) -> bool:
        now = datetime.now(UTC)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO projects (id, name, created_at) VALUES ($1,$2,$3)",
                    project.id, project.name, now,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO users (id, name, project_id, password_hash, is_admin, created_at) "
                    "VALUES ($1,$2,$3,$4,$5,$6)",
                    user.id, user.name, user.project_id, user.password_hash, user.is_admin, now,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO access_keys (access_key, secret_key, user_id, created_at) "
                    "VALUES ($1,$2,$3,$4)",
                    key.access_key, key.secret_key, key.user_id, now,
                )  # fmt: skip
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def has_users(self) -> bool:
        return bool(await self._pool.fetchval("SELECT EXISTS (SELECT 1 FROM users)"))

    async def get_user_by_name(self, name: str) -> User | None:
        row = await self._pool.fetchrow(
            "SELECT id, name, project_id, password_hash, is_admin FROM users WHERE name = $1", name
        )
        return User(row[0], row[1], row[2], row[3], row[4]) if row else None

    async def get_project(self, project_id: str) -> Project | None:
        row = await self._pool.fetchrow("SELECT id, name FROM projects WHERE id = $1", project_id)
        return Project(row[0], row[1]) if row else None

    async def get_project_by_name(self, name: str) -> Project | None:
        row = await self._pool.fetchrow("SELECT id, name FROM projects WHERE name = $1", name)
        return Project(row[0], row[1]) if row else None

    async def get_access_key(self, access_key: str) -> tuple[AccessKey, Principal] | None:
        row = await self._pool.fetchrow(
            "SELECT k.access_key, k.secret_key, u.id, u.name, p.id, p.name, u.is_admin "
            "FROM access_keys k JOIN users u ON u.id = k.user_id "
            "JOIN projects p ON p.id = u.project_id WHERE k.access_key = $1",
            access_key,
        )
        if row is None:
            return None
        return AccessKey(row[0], row[1], row[2]), Principal(row[2], row[3], row[4], row[5], row[6])

    async def save_token(self, token: IssuedToken) -> None:
        p = token.principal
        await self._pool.execute(
            "INSERT INTO tokens (token_hash, user_id, project_id, issued_at, expires_at) "
            "VALUES ($1,$2,$3,$4,$5)",
            token.token_hash, p.user_id, p.project_id, token.issued_at, token.expires_at,
        )  # fmt: skip

    async def get_token(self, token_hash: str) -> IssuedToken | None:
        row = await self._pool.fetchrow(
            "SELECT t.token_hash, u.id, u.name, p.id, p.name, u.is_admin, t.issued_at, t.expires_at "
            "FROM tokens t JOIN users u ON u.id = t.user_id JOIN projects p ON p.id = t.project_id "
            "WHERE t.token_hash = $1",
            token_hash,
        )
        if row is None:
            return None
        principal = Principal(row[1], row[2], row[3], row[4], row[5])
        return IssuedToken(row[0], principal, row[6], row[7])

    async def list_projects(self) -> list[ProjectSummary]:
        rows = await self._pool.fetch(
            "SELECT p.id, p.name, p.created_at, u.name FROM projects p "
            "LEFT JOIN users u ON u.project_id = p.id ORDER BY p.created_at, p.id, u.name"
        )
        return project_summaries((r[0], r[1], r[2], r[3]) for r in rows)

    async def delete_project(self, project_id: str) -> ProjectInUse | None:
        async with self._pool.acquire() as conn, conn.transaction():
            instances = await conn.fetchval(
                "SELECT count(*) FROM instances WHERE project_id = $1 AND status <> $2",
                project_id,
                InstanceStatus.DELETED,
            )
            jobs = await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE project_id = $1 AND ended_at IS NULL", project_id
            )
            if instances or jobs:
                return ProjectInUse(instances, jobs)
            users = "SELECT id FROM users WHERE project_id = $1"
            await conn.execute(
                f"DELETE FROM tokens WHERE project_id = $1 OR user_id IN ({users})", project_id
            )
            await conn.execute(f"DELETE FROM access_keys WHERE user_id IN ({users})", project_id)
            await conn.execute("DELETE FROM users WHERE project_id = $1", project_id)
            await conn.execute("DELETE FROM projects WHERE id = $1", project_id)
        return None

    async def reset_credentials(self, user_id: str, password_hash: str, key: AccessKey | None) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            updated = await conn.execute(
                "UPDATE users SET password_hash = $1 WHERE id = $2", password_hash, user_id
            )
            if updated != "UPDATE 1":
                return False
            await conn.execute("DELETE FROM tokens WHERE user_id = $1", user_id)
            if key is not None:
                await conn.execute("DELETE FROM access_keys WHERE user_id = $1", user_id)
                await conn.execute(
                    "INSERT INTO access_keys (access_key, secret_key, user_id, created_at) "
                    "VALUES ($1,$2,$3,$4)",
                    key.access_key, key.secret_key, user_id, datetime.now(UTC),
                )  # fmt: skip
        return True


async def _locked_job(conn: Conn, job_id: str) -> Job | None:
    row = await conn.fetchrow(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE", job_id)
    return _job(row) if row else None


async def _claimed_job(conn: Conn, claim: Claim) -> Job:
    job = await _locked_job(conn, claim.job_id)
    if job is None or not holds(job, claim):
        raise LeaseLost()
    return job


# "now" for a statement given $1: the caller's if it gives one (tests pin time), else the
# database's clock, so that one clock decides leases for every node. A scalar subquery is
# computed once, and an index can still find what is due by it.
_CLOCK = "WITH clock AS (SELECT coalesce($1::timestamptz, clock_timestamp()) AS now)"


async def _clock(conn: Conn, now: datetime | None) -> datetime:
    """``now`` if given (tests pin time), else the database's clock: one clock for every node."""
    if now is not None:
        return now
    clock: datetime = await conn.fetchval("SELECT clock_timestamp()")
    return clock


def _json(value: Any) -> str:
    # Arrays of jsonb go as text: asyncpg's jsonb codec does not reach the elements of an array.
    return orjson.dumps(value).decode()


async def _apply(conn: Conn, decisions: list[Decision]) -> list[Job]:
    """Apply decided moves in the open transaction, in one statement however many: each a
    conditional update (the row must still be what its decision saw) plus its event.

    Raises JobConflict, undoing them all with the transaction, if any row had changed.
    """
    if not decisions:
        return []
    jobs = [d.after for d in decisions]
    params = [stored_params(job) for job in jobs]
    events = [d.event for d in decisions if d.event is not None]
    applied = await conn.fetchval(
        """
        WITH input AS (
            SELECT * FROM unnest(
                $1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::text[],
                $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::int[],
                $13::text[], $14::timestamptz[], $15::bool[], $16::text[],
                $17::text[], $18::int[], $19::text[], $20::bool[]
            ) AS i(id, status, started_at, ended_at, progress, instance_id, instance_name, entities,
                   fail_reason, sub_tasks, run_at, attempt, lease_owner, lease_expires,
                   cancel_requested, params, was_status, was_attempt, was_owner, was_cancel_requested)
        ), applied AS (
            UPDATE jobs j SET status = i.status, started_at = i.started_at, ended_at = i.ended_at,
                progress = i.progress, instance_id = i.instance_id, instance_name = i.instance_name,
                entities = i.entities::jsonb, fail_reason = i.fail_reason, sub_tasks = i.sub_tasks::jsonb,
                run_at = i.run_at, attempt = i.attempt, lease_owner = i.lease_owner,
                lease_expires = i.lease_expires, cancel_requested = i.cancel_requested,
                params = i.params::jsonb
            FROM input i
            WHERE j.id = i.id AND j.status = i.was_status AND j.attempt = i.was_attempt
                AND j.lease_owner IS NOT DISTINCT FROM i.was_owner
                AND j.cancel_requested = i.was_cancel_requested
            RETURNING j.id
        ), events AS (
            INSERT INTO job_events (job_id, from_status, to_status, at, detail)
            SELECT e.* FROM unnest($21::uuid[], $22::text[], $23::text[], $24::timestamptz[], $25::text[])
                AS e(job_id, from_status, to_status, at, detail)
            WHERE e.job_id IN (SELECT id FROM applied)
        )
        SELECT count(*) FROM applied
        """,
        [j.id for j in jobs], [j.status.value for j in jobs], [j.started for j in jobs],
        [j.ended for j in jobs], [j.progress for j in jobs],
        [j.instance.id if j.instance else None for j in jobs],
        [j.instance.name if j.instance else None for j in jobs], [_json(j.entities) for j in jobs],
        [j.fail_reason for j in jobs], [_json([sub_task_to_json(s) for s in j.sub_tasks]) for j in jobs],
        [j.run_at for j in jobs], [j.attempt for j in jobs], [j.lease_owner for j in jobs],
        [j.lease_expires for j in jobs], [j.cancel_requested for j in jobs], [_json(p) for p in params],
        [d.before.status.value for d in decisions], [d.before.attempt for d in decisions],
        [d.before.lease_owner for d in decisions], [d.before.cancel_requested for d in decisions],
        [e.job_id for e in events], [e.from_status.value if e.from_status else None for e in events],
        [e.to_status.value for e in events], [e.at for e in events], [e.detail for e in events],
    )  # fmt: skip
    if applied != len(decisions):
        raise JobConflict()
    return [dataclasses.replace(job, params=p) for job, p in zip(jobs, params, strict=True)]


async def _insert_event(conn: Conn, event: JobEvent) -> None:
    await conn.execute(
        "INSERT INTO job_events (job_id, from_status, to_status, at, detail) VALUES ($1,$2,$3,$4,$5)",
        event.job_id,
        event.from_status.value if event.from_status else None,
        event.to_status.value,
        event.at,
        event.detail,
    )


async def _migrate(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        # Serialises nodes that start at the same moment against one database.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        applied = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in migrations("postgres"):
            if migration.version in applied:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied.add(migration.version)
        check_schema("postgres", await schema_of(conn), sorted(applied))


async def schema_of(conn: asyncpg.Connection) -> dict[str, set[str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    result: dict[str, set[str]] = {}
    for table, column in rows:
        result.setdefault(table, set()).add(column)
    return result
