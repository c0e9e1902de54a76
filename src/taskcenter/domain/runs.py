"""A worker's runs of a job: its claim, how a run ended, and which move that end is.

Leases, retries with backoff, and what a lost worker means. The moves themselves (and every
reason text) are domain.moves'; this module only says which one a run's end or loss is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from taskcenter.domain import moves
from taskcenter.domain.job import Job
from taskcenter.domain.moves import Decision
from taskcenter.domain.status import JobStatus

DEFAULT_LEASE = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's hold on one run of a job. Every write it makes is fenced by all three."""

    job_id: str
    worker: str
    attempt: int


class Ending(StrEnum):
    """How a run ended, as its worker saw it."""

    RETURNED = "returned"  # the handler returned
    STOPPED = "stopped"  # it raised Cancelled after a cancel request
    GAVE_UP = "gave_up"  # it raised PermanentFailure, or there was no handler: never retried
    RAISED = "raised"  # any other error: retried if the handler is safe to retry
    INTERRUPTED = "interrupted"  # the worker stopped before the handler did


@dataclass(frozen=True, slots=True)
class Outcome:
    """A run's end as its worker reports it; ``ended`` decides what it makes of the job."""

    claim: Claim
    ending: Ending
    error: str = ""  # GAVE_UP, RAISED: what went wrong
    retry_safe: bool = False  # the handler declared that running it twice does no harm


def backoff(attempt: int) -> timedelta:
    """The wait before retry number ``attempt + 1``: 1 s, 2 s, 4 s, ... at most five minutes."""
    return min(timedelta(seconds=2 ** max(attempt - 1, 0)), MAX_BACKOFF)


def holds(job: Job, claim: Claim) -> bool:
    """Whether ``claim`` still owns this run of the job (the fence every worker write passes)."""
    return (
        job.status is JobStatus.RUNNING and job.lease_owner == claim.worker and job.attempt == claim.attempt
    )


def ended(job: Job, outcome: Outcome, now: datetime) -> Decision:
    """The move a run's end makes (``job`` is held by ``outcome.claim``)."""
    ending = outcome.ending
    if ending is Ending.RETURNED:
        return moves.complete(job, now)
    if ending is Ending.STOPPED:
        return moves.stop(job, now)
    if ending is Ending.INTERRUPTED:
        if outcome.retry_safe:
            return moves.hand_back(job, now, outcome.claim.worker)
        return moves.abandon(job, now, outcome.claim.worker)
    if ending is Ending.RAISED and outcome.retry_safe and job.attempt < job.max_attempts:
        return moves.retry(job, now, now + backoff(job.attempt), outcome.error)
    return moves.fail(job, now, outcome.error)


def lost(job: Job, now: datetime) -> Decision:
    """The move for a Running job whose lease expired: its worker is gone."""
    return moves.rescue(job, now, now + backoff(job.attempt))
