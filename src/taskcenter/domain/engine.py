"""The rules of running jobs: leases, retries with backoff, and what a lost worker means."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from taskcenter.domain.errors import JobNotCancelable
from taskcenter.domain.job import Job, JobEvent
from taskcenter.domain.status import JobStatus, check_transition

DEFAULT_LEASE = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's hold on one run of a job. Every write it makes is fenced by all three."""

    job_id: str
    worker: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended, as its worker reports it."""

    claim: Claim
    status: JobStatus  # COMPLETED, FAILED or CANCELED
    fail_reason: str = ""


def backoff(attempt: int) -> timedelta:
    """The wait before retry number ``attempt + 1``: 1 s, 2 s, 4 s, ... at most five minutes."""
    return min(timedelta(seconds=2 ** max(attempt - 1, 0)), MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class Rescue:
    """What becomes of a Running job whose lease expired (its worker is gone)."""

    status: JobStatus  # PENDING (retry), FAILED, or CANCELED (a cancel was pending)
    run_at: datetime | None
    reason: str


def rescue(job: Job, now: datetime) -> Rescue:
    lost = (
        f"The worker running this job ({job.lease_owner}) was lost: its lease expired at "
        f"{job.lease_expires.isoformat() if job.lease_expires else 'unknown'}"
    )
    if job.cancel_requested:
        return Rescue(JobStatus.CANCELED, None, f"{lost}; a cancel had been requested.")
    if job.attempt < job.max_attempts:
        run_at = now + backoff(job.attempt)
        return Rescue(
            JobStatus.PENDING,
            run_at,
            f"{lost}; retry {job.attempt + 1} of {job.max_attempts} at {run_at.isoformat()}.",
        )
    if job.max_attempts == 1:
        return Rescue(JobStatus.FAILED, None, f"{lost}. The job is not safe to retry.")
    return Rescue(JobStatus.FAILED, None, f"{lost}. All {job.max_attempts} attempts are used.")


def holds(job: Job, claim: Claim) -> bool:
    """Whether ``claim`` still owns this run of the job (the fence every worker write passes)."""
    return (
        job.status is JobStatus.RUNNING and job.lease_owner == claim.worker and job.attempt == claim.attempt
    )


def rescued(job: Job, now: datetime) -> tuple[Job, Job, JobEvent]:
    """``job`` (whose lease expired), what it becomes, and the event saying why."""
    outcome = rescue(job, now)
    changes: dict[str, Any] = {"status": outcome.status, "lease_owner": None, "lease_expires": None}
    if outcome.status is JobStatus.PENDING:
        changes["run_at"] = outcome.run_at
    else:
        changes["ended"] = now
        if outcome.status is JobStatus.FAILED:
            changes["fail_reason"] = outcome.reason
    after = dataclasses.replace(job, **changes)
    return job, after, JobEvent(job.id, job.status, outcome.status, now, outcome.reason)


def retry_later(job: Job, run_at: datetime) -> Job:
    """The job handed back by its worker, to be claimed again from ``run_at``."""
    return dataclasses.replace(
        job, status=JobStatus.PENDING, run_at=run_at, lease_owner=None, lease_expires=None
    )


def finished(job: Job, outcome: Outcome, now: datetime) -> tuple[Job, JobEvent]:
    """The job after its run ended: never Completed once a cancel was accepted."""
    status = outcome.status
    if status is JobStatus.COMPLETED and job.cancel_requested:
        status, detail = JobStatus.CANCELED, "the handler finished after a cancel was accepted"
    elif status is JobStatus.FAILED:
        detail = f"attempt {job.attempt} failed"
    elif status is JobStatus.CANCELED:
        detail = "the handler stopped on a cancel request"
    else:
        detail = f"attempt {job.attempt} completed"
    check_transition(job.status, status)
    after = dataclasses.replace(
        job,
        status=status,
        ended=now,
        progress=100 if status is JobStatus.COMPLETED else job.progress,
        fail_reason=outcome.fail_reason if status is JobStatus.FAILED else job.fail_reason,
        lease_owner=None,
        lease_expires=None,
    )
    return after, JobEvent(job.id, job.status, status, now, detail)


def cancel(job: Job, now: datetime) -> tuple[Job, JobEvent | None]:
    """A cancel request: a Pending job ends Canceled; a worker's Running job is asked to stop."""
    if job.status is JobStatus.PENDING:
        after = dataclasses.replace(
            job, status=JobStatus.CANCELED, ended=now, lease_owner=None, lease_expires=None
        )
        return after, JobEvent(job.id, job.status, after.status, now, "cancelled on request")
    if job.status is JobStatus.RUNNING and job.runnable:
        return dataclasses.replace(job, cancel_requested=True), None
    if job.status is JobStatus.RUNNING:
        raise JobNotCancelable(
            f"job {job.id} is reported by its producer; only it can end the job.",
            f"任务 {job.id} 由其生产者上报，只有生产者能结束该任务。",
        )
    raise JobNotCancelable(
        f"job {job.id} has already ended ({job.status.value}).",
        f"任务 {job.id} 已结束（{job.status.value}）。",
    )
