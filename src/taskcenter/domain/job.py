"""A job, what a producer submits, the changes it may ask for, and the events of its life."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from taskcenter.domain.status import JobStatus

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class SubTask:
    name: str
    percent: int
    status: str
    remaining_time: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    project_id: str
    name: str
    status: JobStatus
    created: datetime
    started: datetime | None = None
    ended: datetime | None = None
    progress: int = 0
    instance: Instance | None = None
    entities: JsonObject = field(default_factory=dict)
    fail_reason: str = ""
    sub_tasks: tuple[SubTask, ...] = ()
    idempotency_key: str | None = None
    # Engine state. A job run by workers has a handler; the others are report-only, driven
    # through the producer API. None of this is ever shown on the wire.
    run_by_worker: bool = False
    run_at: datetime | None = None
    attempt: int = 0
    max_attempts: int = 1
    lease_owner: str | None = None
    lease_expires: datetime | None = None
    cancel_requested: bool = False
    params: JsonObject = field(default_factory=dict)
    scheduled: bool = False


@dataclass(frozen=True, slots=True)
class NewJob:
    """What a producer submits; the store turns it into a Job in one insert."""

    project_id: str
    name: str
    status: JobStatus = JobStatus.RUNNING
    instance: Instance | None = None
    entities: JsonObject = field(default_factory=dict)
    idempotency_key: str | None = None
    run_by_worker: bool = False
    run_at: datetime | None = None  # when a worker may start it; None: at once
    max_attempts: int = 1
    params: JsonObject = field(default_factory=dict)
    # Refuse (InstanceBusy) while another job of the same instance has not ended.
    exclusive: bool = False

    def to_job(self, now: datetime, job_id: str | None = None) -> Job:
        running = self.status is JobStatus.RUNNING
        return Job(
            id=job_id or str(uuid.uuid4()),
            project_id=self.project_id,
            name=self.name,
            status=self.status,
            created=now,
            started=now if running else None,
            instance=self.instance,
            entities=self.entities,
            idempotency_key=self.idempotency_key,
            run_by_worker=self.run_by_worker,
            run_at=(self.run_at or now) if self.run_by_worker else self.run_at,
            max_attempts=self.max_attempts,
            params=self.params,
            scheduled=self.run_at is not None,
        )


@dataclass(frozen=True, slots=True)
class JobPatch:
    """A producer's partial update. None means "leave as it is"."""

    status: JobStatus | None = None
    progress: int | None = None
    sub_tasks: tuple[SubTask, ...] | None = None
    entities: JsonObject | None = None
    fail_reason: str | None = None
    instance: Instance | None = None


@dataclass(frozen=True, slots=True)
class JobEvent:
    """One row of a job's append-only history: a status change, when, and why."""

    job_id: str
    from_status: JobStatus | None
    to_status: JobStatus
    at: datetime
    detail: str = ""
    move: str = ""  # domain.moves.Move: the event's type in the job's timeline


SECRETS = "secrets"


def stored_params(job: Job) -> JsonObject:
    """A job's params as they are kept: its ``secrets`` are erased once the job has ended.

    Handlers that need a credential (say, a password hash for a new server) get it under
    ``params["secrets"]`` for as long as the job can still run, and not a moment longer.
    """
    if job.status.is_final and SECRETS in job.params:
        return {k: v for k, v in job.params.items() if k != SECRETS}
    return job.params
