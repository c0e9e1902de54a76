"""Which move a run's end or loss is: the worker reports what happened, the domain decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from taskcenter.domain.job import Job, NewJob
from taskcenter.domain.moves import Move
from taskcenter.domain.runs import Claim, Ending, Outcome, backoff, ended, holds, lost
from taskcenter.domain.status import JobStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def running(attempt: int = 1, max_attempts: int = 3, cancel_requested: bool = False) -> Job:
    new = NewJob("p", "Job", status=JobStatus.PENDING, run_by_worker=True, max_attempts=max_attempts)
    job = new.to_job(T0)
    fields = {f: getattr(job, f) for f in job.__slots__}
    return Job(**{
        **fields, "status": JobStatus.RUNNING, "attempt": attempt, "lease_owner": "w1",
        "lease_expires": T0, "cancel_requested": cancel_requested,
    })  # fmt: skip


def outcome(job: Job, ending: Ending, error: str = "", retry_safe: bool = False) -> Outcome:
    return Outcome(Claim(job.id, "w1", job.attempt), ending, error, retry_safe)


@pytest.mark.parametrize(
    ("ending", "retry_safe", "attempt", "cancel_requested", "move"),
    [
        (Ending.RETURNED, False, 1, False, Move.COMPLETED),
        (Ending.RETURNED, True, 1, True, Move.COMPLETED_AFTER_CANCEL),
        (Ending.STOPPED, False, 1, True, Move.STOPPED),
        (Ending.GAVE_UP, True, 1, False, Move.FAILED),  # never retried, however safe
        (Ending.RAISED, True, 1, False, Move.RETRIED),
        (Ending.RAISED, True, 3, False, Move.FAILED),  # no attempt left
        (Ending.RAISED, False, 1, False, Move.FAILED),  # not safe to retry
        (Ending.INTERRUPTED, True, 1, False, Move.HANDED_BACK),
        (Ending.INTERRUPTED, False, 1, False, Move.ABANDONED),
    ],
)
def test_each_ending_is_one_move(
    ending: Ending, retry_safe: bool, attempt: int, cancel_requested: bool, move: Move
) -> None:
    job = running(attempt, cancel_requested=cancel_requested)
    decision = ended(job, outcome(job, ending, "ValueError: x", retry_safe), T0)
    assert decision.event is not None and decision.event.move == move


def test_a_retry_waits_its_backoff_and_a_failure_keeps_the_error() -> None:
    job = running(attempt=2)
    retried = ended(job, outcome(job, Ending.RAISED, "ValueError: x", retry_safe=True), T0)
    assert retried.after.run_at == T0 + timedelta(seconds=2) and retried.after.status is JobStatus.PENDING
    assert retried.event is not None and "attempt 2 failed (ValueError: x)" in retried.event.detail
    failed = ended(job, outcome(job, Ending.GAVE_UP, "disk full"), T0)
    assert failed.after.fail_reason == "disk full"
    back = ended(job, outcome(job, Ending.INTERRUPTED, retry_safe=True), T0)
    assert back.after.run_at == T0 and back.event is not None and "handed back by w1" in back.event.detail


def test_a_lost_job_is_retried_after_its_backoff() -> None:
    decision = lost(running(attempt=3, max_attempts=5), T0)
    assert decision.event is not None and decision.event.move == Move.RESCUED
    assert decision.after.run_at == T0 + timedelta(seconds=4)


def test_backoff_doubles_up_to_five_minutes() -> None:
    assert [backoff(n).total_seconds() for n in (0, 1, 2, 3, 4)] == [1, 1, 2, 4, 8]
    assert backoff(30) == timedelta(minutes=5)


def test_a_claim_holds_only_its_own_run() -> None:
    job = running(attempt=2)
    assert holds(job, Claim(job.id, "w1", 2))
    assert not holds(job, Claim(job.id, "w2", 2)) and not holds(job, Claim(job.id, "w1", 1))
