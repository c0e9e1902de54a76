"""PostgreSQL rows to domain objects and back (JSON through the pool's codecs: database.py)."""

from __future__ import annotations

from typing import Any

import asyncpg

from taskcenter.domain.instance import Backup, DbInstance
from taskcenter.domain.job import Instance, Job, JobEvent
from taskcenter.domain.status import JobStatus
from taskcenter.domain.wire import sub_task_to_json
from taskcenter.storage.columns import load_sub_tasks

_STATUS = {s.value: s for s in JobStatus}  # a dict lookup is several times cheaper than JobStatus(x)


def job(row: asyncpg.Record) -> Job:
    """A job from its columns, selected as the .sql files select them."""
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


def job_values(job: Job) -> tuple[Any, ...]:
    """A job as the values of jobs.sql's job_insert, in order."""
    return (
        job.id, job.project_id, job.name, job.status.value, job.created, job.started, job.ended,
        job.progress, job.instance.id if job.instance else None,
        job.instance.name if job.instance else None, job.entities, job.fail_reason,
        [sub_task_to_json(s) for s in job.sub_tasks], job.idempotency_key, job.runnable,
        job.run_at, job.attempt, job.max_attempts, job.lease_owner, job.lease_expires,
        job.cancel_requested, job.params, job.scheduled,
    )  # fmt: skip


def job_save_values(current: Job, job: Job, params: dict[str, Any]) -> tuple[Any, ...]:
    """The values of jobs.sql's job_save: ``job`` written over ``current``, with ``params``."""
    return (
        job.status.value, job.started, job.ended, job.progress,
        job.instance.id if job.instance else None, job.instance.name if job.instance else None,
        job.entities, job.fail_reason, [sub_task_to_json(s) for s in job.sub_tasks], job.run_at,
        job.attempt, job.lease_owner, job.lease_expires, job.cancel_requested, params, job.id,
        current.status.value, current.attempt, current.lease_owner,
    )  # fmt: skip


def event(row: asyncpg.Record) -> JobEvent:
    return JobEvent(str(row[0]), _STATUS[row[1]] if row[1] else None, _STATUS[row[2]], row[3], row[4])


def event_values(event: JobEvent) -> tuple[Any, ...]:
    return (
        event.job_id,
        event.from_status.value if event.from_status else None,
        event.to_status.value,
        event.at,
        event.detail,
    )


def instance(row: asyncpg.Record) -> DbInstance:
    return DbInstance(
        id=row[0], project_id=row[1], name=row[2], status=row[3], flavor_ref=row[4], port=row[5],
        request=row[6], created=row[7], updated=row[8],
    )  # fmt: skip


def instance_values(instance: DbInstance) -> tuple[Any, ...]:
    return (
        instance.id, instance.project_id, instance.name, instance.status, instance.flavor_ref,
        instance.port, instance.request, instance.created, instance.updated,
    )  # fmt: skip


def backup(row: asyncpg.Record) -> Backup:
    return Backup(
        id=row[0], project_id=row[1], instance_id=row[2], name=row[3], description=row[4], status=row[5],
        size_bytes=row[6], begin=row[7], end=row[8],
    )  # fmt: skip


def backup_values(backup: Backup) -> tuple[Any, ...]:
    return (
        backup.id, backup.project_id, backup.instance_id, backup.name, backup.description,
        backup.status, backup.size_bytes, backup.begin, backup.end,
    )  # fmt: skip
