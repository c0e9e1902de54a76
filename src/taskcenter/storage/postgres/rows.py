"""PostgreSQL rows to domain objects and back (JSON through the pool's codecs: database.py)."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from taskcenter.domain.instance import Backup, DbInstance
from taskcenter.domain.job import Instance, Job, JobEvent
from taskcenter.domain.moves import Decision
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
        run_by_worker=row[14],
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
        [sub_task_to_json(s) for s in job.sub_tasks], job.idempotency_key, job.run_by_worker,
        job.run_at, job.attempt, job.max_attempts, job.lease_owner, job.lease_expires,
        job.cancel_requested, job.params, job.scheduled,
    )  # fmt: skip


def apply_values(decisions: list[Decision], params: list[dict[str, Any]]) -> tuple[list[Any], ...]:
    """The arrays of jobs.sql's jobs_apply: each decision's job as it becomes (with ``params``,
    as kept), the job as the decision saw it, then the events decided."""
    jobs = [d.after for d in decisions]
    seen = [d.before for d in decisions]
    events = [d.event for d in decisions if d.event is not None]
    return (
        [j.id for j in jobs], [j.status.value for j in jobs], [j.started for j in jobs],
        [j.ended for j in jobs], [j.progress for j in jobs],
        [j.instance.id if j.instance else None for j in jobs],
        [j.instance.name if j.instance else None for j in jobs], [_json(j.entities) for j in jobs],
        [j.fail_reason for j in jobs], [_json([sub_task_to_json(s) for s in j.sub_tasks]) for j in jobs],
        [j.run_at for j in jobs], [j.attempt for j in jobs], [j.lease_owner for j in jobs],
        [j.lease_expires for j in jobs], [j.cancel_requested for j in jobs], [_json(p) for p in params],
        [j.status.value for j in seen], [j.attempt for j in seen], [j.lease_owner for j in seen],
        [j.cancel_requested for j in seen],
        [e.job_id for e in events], [e.from_status.value if e.from_status else None for e in events],
        [e.to_status.value for e in events], [e.at for e in events], [e.detail for e in events],
        [e.move for e in events],
    )  # fmt: skip


def _json(value: Any) -> str:
    # As the pool's codec writes it (database.py); arrays go as text[], which the codec does not
    # reach, and the statement casts each to json.
    return orjson.dumps(value).decode()


def event(row: asyncpg.Record) -> JobEvent:
    return JobEvent(str(row[0]), _STATUS[row[1]] if row[1] else None, _STATUS[row[2]], row[3], row[4], row[5])


def event_values(event: JobEvent) -> tuple[Any, ...]:
    return (
        event.job_id,
        event.from_status.value if event.from_status else None,
        event.to_status.value,
        event.at,
        event.detail,
        event.move,
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
