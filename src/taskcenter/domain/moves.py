"""The one table of a job's moves: from which states, to which, the event, and the reason text.

Every change to a job is decided here, and only here: the HTTP API, the producer API, workers and
maintenance ask for a change; the functions below name the move it is and ``decide`` checks it
against the job's current status, returning the job as it becomes with the event that says why.
Storage applies a decision with a conditional update (the row must still be what the decision
saw) and writes the event in the same transaction; it composes no status, reason or detail of
its own. No reason text is written anywhere else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from taskcenter.domain.errors import IllegalTransition, InvalidParameter, JobNotCancelable
from taskcenter.domain.job import Job, JobEvent, JobPatch
from taskcenter.domain.status import JobStatus

PENDING, RUNNING = JobStatus.PENDING, JobStatus.RUNNING
COMPLETED, FAILED, CANCELED = JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED


class Move(StrEnum):
    """What can happen to a job. The value is the event's type in the job's timeline."""

    CREATED = "created"
    CLAIMED = "claimed"  # a worker takes a due job
    REPORTED = "reported"  # progress, sub-tasks, entities or instance; the status stays
    RETRIED = "retried"  # the handler raised; it is safe to retry and attempts remain
    HANDED_BACK = "handed_back"  # its worker is stopping and the job is safe to run again
    RESCUED = "rescued"  # its worker was lost; attempts remain
    LOST = "lost"  # its worker was lost; the job is not safe to retry
    LOST_LAST = "lost_last"  # its worker was lost on the last attempt
    LOST_CANCELLING = "lost_cancelling"  # its worker was lost while a cancel was pending
    CANCEL_REQUESTED = "cancel_requested"  # a worker's running job is asked to stop
    CANCELLED = "cancelled"  # a job that had not started, on a cancel request
    STOPPED = "stopped"  # the handler stopped on a cancel request
    COMPLETED = "completed"  # the handler returned
    COMPLETED_AFTER_CANCEL = "completed_after_cancel"  # never Completed once a cancel was accepted
    FAILED = "failed"  # the handler failed for good (its error is the job's fail_reason)
    ABANDONED = "abandoned"  # its worker stopped first and the job is not safe to run again
    # A report-only job is moved by its producer (the producer API's PATCH).
    STARTED = "started"
    PRODUCER_COMPLETED = "producer_completed"
    PRODUCER_FAILED = "producer_failed"
    PRODUCER_CANCELLED = "producer_cancelled"


@dataclass(frozen=True, slots=True)
class Rule:
    sources: frozenset[JobStatus]  # empty for CREATED: the job did not exist
    target: JobStatus | None  # None: the status stays (or, for CREATED, is the one submitted)
    reason: str  # str.format()ted with the move's facts


def _rule(sources: tuple[JobStatus, ...], target: JobStatus | None, reason: str) -> Rule:
    return Rule(frozenset(sources), target, reason)


_ABANDONED = "The worker {worker} was stopped before the job finished, and the job is not safe to retry."
_LOST = "The worker running this job ({worker}) was lost: its lease expired at {expired}"

# The table. README.md shows it (a test holds the two equal); tests/domain/test_moves.py walks
# every (status, move) pair, tests/storage/test_moves_port.py does it again through both stores.
MOVES: dict[Move, Rule] = {
    Move.CREATED: _rule((), None, "created"),
    Move.CLAIMED: _rule((PENDING,), RUNNING, "claimed by {worker}, attempt {attempt} of {max_attempts}"),
    Move.REPORTED: _rule((PENDING, RUNNING), None, ""),
    Move.RETRIED: _rule((RUNNING,), PENDING, "attempt {attempt} failed ({error}); retry at {run_at}"),
    Move.HANDED_BACK: _rule((RUNNING,), PENDING, "handed back by {worker} on shutdown"),
    Move.RESCUED: _rule((RUNNING,), PENDING, _LOST + "; retry {next} of {max_attempts} at {run_at}."),
    Move.LOST: _rule((RUNNING,), FAILED, _LOST + ". The job is not safe to retry."),
    Move.LOST_LAST: _rule((RUNNING,), FAILED, _LOST + ". All {max_attempts} attempts are used."),
    Move.LOST_CANCELLING: _rule((RUNNING,), CANCELED, _LOST + "; a cancel had been requested."),
    Move.CANCEL_REQUESTED: _rule((RUNNING,), None, "cancel requested"),
    Move.CANCELLED: _rule((PENDING,), CANCELED, "cancelled on request"),
    Move.STOPPED: _rule((RUNNING,), CANCELED, "the handler stopped on a cancel request"),
    Move.COMPLETED: _rule((RUNNING,), COMPLETED, "attempt {attempt} completed"),
    Move.COMPLETED_AFTER_CANCEL: _rule(
        (RUNNING,), CANCELED, "the handler finished after a cancel was accepted"
    ),
    Move.FAILED: _rule((RUNNING,), FAILED, "attempt {attempt} failed"),
    Move.ABANDONED: _rule((RUNNING,), FAILED, _ABANDONED),
    Move.STARTED: _rule((PENDING,), RUNNING, "started by its producer"),
    Move.PRODUCER_COMPLETED: _rule((RUNNING,), COMPLETED, "completed by its producer"),
    Move.PRODUCER_FAILED: _rule((PENDING, RUNNING), FAILED, "failed by its producer"),
    Move.PRODUCER_CANCELLED: _rule((PENDING, RUNNING), CANCELED, "cancelled by its producer"),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """A move decided: the job as it was, as it becomes, and the event to record (if any)."""

    before: Job
    after: Job
    event: JobEvent | None


def decide(
    job: Job, move: Move, now: datetime, changes: dict[str, Any] | None = None, /, **facts: Any
) -> Decision:
    """``move`` applied to ``job`` at ``now``, or IllegalTransition if its status does not allow it.

    ``changes`` are the move's own field changes (progress, run_at, lease...); the status, times
    and lease that follow from the target status are set here. ``facts`` fill the reason text.
    """
    rule = MOVES[move]
    if job.status not in rule.sources:
        if job.status.is_final:
            raise IllegalTransition(job.status.value)
        raise IllegalTransition(job.status.value, (rule.target or job.status).value)
    target = rule.target or job.status
    fields: dict[str, Any] = dict(changes or {})
    if target is not job.status:
        fields["status"] = target
        if target is RUNNING and job.started is None:
            fields["started"] = now
        if target is not RUNNING:  # Pending again, or final: no worker holds it
            fields["lease_owner"] = None
            fields["lease_expires"] = None
        if target.is_final:
            fields["ended"] = now
        if target is COMPLETED:
            fields["progress"] = 100
    reason = rule.reason.format(**facts)
    if target is FAILED and "fail_reason" not in fields:
        fields["fail_reason"] = reason  # the job says why it failed, as its event does
    after = dataclasses.replace(job, **fields)
    if move is Move.REPORTED:
        return Decision(job, after, None)
    return Decision(job, after, JobEvent(job.id, job.status, target, now, reason, move))


def created(job: Job) -> JobEvent:
    """The first event of a job's timeline."""
    return JobEvent(job.id, None, job.status, job.created, MOVES[Move.CREATED].reason, Move.CREATED)


# A worker's moves. Which one a run's end is, is domain.runs' to say.


def claim(job: Job, worker: str, now: datetime, lease: timedelta) -> Decision:
    attempt = job.attempt + 1
    return decide(
        job, Move.CLAIMED, now,
        {"attempt": attempt, "lease_owner": worker, "lease_expires": now + lease},
        worker=worker, attempt=attempt, max_attempts=job.max_attempts,
    )  # fmt: skip


def retry(job: Job, now: datetime, run_at: datetime, error: str) -> Decision:
    return decide(
        job, Move.RETRIED, now, {"run_at": run_at},
        attempt=job.attempt, error=error, run_at=run_at.isoformat(),
    )  # fmt: skip


def hand_back(job: Job, now: datetime, worker: str) -> Decision:
    return decide(job, Move.HANDED_BACK, now, {"run_at": now}, worker=worker)


def rescue(job: Job, now: datetime, run_at: datetime) -> Decision:
    """A Running job whose lease expired: retried at ``run_at`` if it may be, else ended."""
    lost = {
        "worker": job.lease_owner,
        "expired": job.lease_expires.isoformat() if job.lease_expires else "unknown",
        "max_attempts": job.max_attempts,
    }
    if job.cancel_requested:
        return decide(job, Move.LOST_CANCELLING, now, **lost)
    if job.attempt < job.max_attempts:
        return decide(
            job, Move.RESCUED, now, {"run_at": run_at},
            next=job.attempt + 1, run_at=run_at.isoformat(), **lost,
        )  # fmt: skip
    return decide(job, Move.LOST if job.max_attempts == 1 else Move.LOST_LAST, now, **lost)


def complete(job: Job, now: datetime) -> Decision:
    """The handler returned: Completed, but never once a cancel was accepted."""
    if job.cancel_requested:
        return decide(job, Move.COMPLETED_AFTER_CANCEL, now)
    return decide(job, Move.COMPLETED, now, attempt=job.attempt)


def stop(job: Job, now: datetime) -> Decision:
    return decide(job, Move.STOPPED, now)


def fail(job: Job, now: datetime, fail_reason: str) -> Decision:
    return decide(job, Move.FAILED, now, {"fail_reason": fail_reason}, attempt=job.attempt)


def abandon(job: Job, now: datetime, worker: str) -> Decision:
    return decide(job, Move.ABANDONED, now, worker=worker)


# Requests from outside: a cancel (the cloud API or the producer API) and a producer's report.


def cancel(job: Job, now: datetime) -> Decision:
    """A cancel request: a Pending job ends Canceled; a worker's Running job is asked to stop."""
    if job.status is PENDING:
        return decide(job, Move.CANCELLED, now)
    if job.status is RUNNING and job.run_by_worker:
        return decide(job, Move.CANCEL_REQUESTED, now, {"cancel_requested": True})
    if job.status is RUNNING:
        raise JobNotCancelable(
            f"job {job.id} is reported by its producer; only it can end the job.",
            f"任务 {job.id} 由其生产者上报，只有生产者能结束该任务。",
        )
    raise JobNotCancelable(
        f"job {job.id} has already ended ({job.status.value}).",
        f"任务 {job.id} 已结束（{job.status.value}）。",
    )


# A producer names a status; the move it means from each status it may come from.
_PRODUCER_MOVES: dict[tuple[JobStatus, JobStatus], Move] = {
    (PENDING, RUNNING): Move.STARTED,
    (PENDING, FAILED): Move.PRODUCER_FAILED,
    (PENDING, CANCELED): Move.PRODUCER_CANCELLED,
    (RUNNING, COMPLETED): Move.PRODUCER_COMPLETED,
    (RUNNING, FAILED): Move.PRODUCER_FAILED,
    (RUNNING, CANCELED): Move.PRODUCER_CANCELLED,
}


def report(job: Job, patch: JobPatch, now: datetime) -> Decision:
    """A producer's PATCH, or a handler's report (which carries no status): one guarded change.

    Raises IllegalTransition for any change to a final job or a move the table does not allow,
    and InvalidParameter for a fail_reason on a job that is not failing.
    """
    if job.status.is_final:
        raise IllegalTransition(job.status.value)
    target = patch.status or job.status
    if patch.fail_reason is not None and target is not FAILED:
        raise InvalidParameter(
            "fail_reason: only allowed together with status Failed.",
            "fail_reason: 仅在 status 为 Failed 时允许。",
        )
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("progress", patch.progress), ("sub_tasks", patch.sub_tasks), ("entities", patch.entities),
            ("fail_reason", patch.fail_reason), ("instance", patch.instance),
        )
        if value is not None
    }  # fmt: skip
    if target is job.status:
        return decide(job, Move.REPORTED, now, changes)
    move = _PRODUCER_MOVES.get((job.status, target))
    if move is None:
        raise IllegalTransition(job.status.value, target.value)
    if target is FAILED:
        changes.setdefault("fail_reason", "")  # a producer's failure says what it says, or nothing
    return decide(job, move, now, changes)
