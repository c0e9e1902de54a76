"""SQLite rows to domain objects and back: times as integer microseconds, JSON as its text."""

from __future__ import annotations

from typing import Any

import orjson

from taskcenter.domain.instance import Backup, DbInstance
from taskcenter.domain.job import Instance, Job, JobEvent
from taskcenter.domain.status import JobStatus
from taskcenter.storage.columns import dump_sub_tasks, from_us, load_sub_tasks, opt_from_us, opt_to_us, to_us

Row = tuple[Any, ...]
_STATUS = {s.value: s for s in JobStatus}  # a dict lookup is several times cheaper than JobStatus(x)


def job(row: Row) -> Job:
    """A job from its columns, selected as the .sql files select them."""
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
        run_by_worker=bool(row[14]),
        run_at=opt_from_us(row[15]),
        attempt=row[16],
        max_attempts=row[17],
        lease_owner=row[18],
        lease_expires=opt_from_us(row[19]),
        cancel_requested=bool(row[20]),
        params=orjson.loads(row[21]) if row[21] != "{}" else {},
        scheduled=bool(row[22]),
    )


def job_values(job: Job) -> Row:
    """A job as the values of jobs.sql's job_insert, in order."""
    return (
        job.id, job.project_id, job.name, job.status.value, to_us(job.created),
        opt_to_us(job.started), opt_to_us(job.ended), job.progress,
        job.instance.id if job.instance else None, job.instance.name if job.instance else None,
        orjson.dumps(job.entities).decode(), job.fail_reason, dump_sub_tasks(job.sub_tasks),
        job.idempotency_key, job.run_by_worker, opt_to_us(job.run_at), job.attempt, job.max_attempts,
        job.lease_owner, opt_to_us(job.lease_expires), job.cancel_requested,
        orjson.dumps(job.params).decode(), job.scheduled,
    )  # fmt: skip


def job_save_values(current: Job, job: Job, params: dict[str, Any]) -> Row:
    """The values of jobs.sql's job_save: ``job`` written over ``current``, with ``params``."""
    return (
        job.status.value, opt_to_us(job.started), opt_to_us(job.ended), job.progress,
        job.instance.id if job.instance else None, job.instance.name if job.instance else None,
        orjson.dumps(job.entities).decode(), job.fail_reason, dump_sub_tasks(job.sub_tasks),
        opt_to_us(job.run_at), job.attempt, job.lease_owner, opt_to_us(job.lease_expires),
        job.cancel_requested, orjson.dumps(params).decode(), job.id,
        current.status.value, current.attempt, current.lease_owner, current.cancel_requested,
    )  # fmt: skip


def event(row: Row) -> JobEvent:
    return JobEvent(
        row[0], _STATUS[row[1]] if row[1] else None, _STATUS[row[2]], from_us(row[3]), row[4], row[5]
    )


def event_values(event: JobEvent) -> Row:
    return (
        event.job_id,
        event.from_status.value if event.from_status else None,
        event.to_status.value,
        to_us(event.at),
        event.detail,
        event.move,
    )


def instance(row: Row) -> DbInstance:
    return DbInstance(
        id=row[0], project_id=row[1], name=row[2], status=row[3], flavor_ref=row[4], port=row[5],
        request=orjson.loads(row[6]), created=from_us(row[7]), updated=from_us(row[8]),
    )  # fmt: skip


def instance_values(instance: DbInstance) -> Row:
    return (
        instance.id, instance.project_id, instance.name, instance.status, instance.flavor_ref,
        instance.port, orjson.dumps(instance.request).decode(), to_us(instance.created),
        to_us(instance.updated),
    )  # fmt: skip


def backup(row: Row) -> Backup:
    return Backup(
        id=row[0], project_id=row[1], instance_id=row[2], name=row[3], description=row[4], status=row[5],
        size_bytes=row[6], begin=from_us(row[7]), end=opt_from_us(row[8]),
    )  # fmt: skip


def backup_values(backup: Backup) -> Row:
    return (
        backup.id, backup.project_id, backup.instance_id, backup.name, backup.description,
        backup.status, backup.size_bytes, to_us(backup.begin), opt_to_us(backup.end),
    )  # fmt: skip
