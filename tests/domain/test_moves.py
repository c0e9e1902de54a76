"""The table of moves: every (status, move) pair, legal and illegal, and what each move decides."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from taskcenter.domain.errors import IllegalTransition, InvalidParameter, JobNotCancelable
from taskcenter.domain.job import Job, JobPatch, NewJob
from taskcenter.domain.moves import (
    MOVES,
    Move,
    abandon,
    cancel,
    claim,
    complete,
    decide,
    fail,
    hand_back,
    report,
    rescue,
    retry,
    stop,
)
from taskcenter.domain.status import JobStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
P, R, C, F, X = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED,
                 JobStatus.CANCELED)  # fmt: skip

# Written out by hand, apart from the table, so a change to the table must be made twice.
EXPECTED: dict[Move, tuple[set[JobStatus], JobStatus | None]] = {
    Move.CLAIMED: ({P}, R),
    Move.REPORTED: ({P, R}, None),
    Move.RETRIED: ({R}, P),
    Move.HANDED_BACK: ({R}, P),
    Move.RESCUED: ({R}, P),
    Move.LOST: ({R}, F),
    Move.LOST_LAST: ({R}, F),
    Move.LOST_CANCELLING: ({R}, X),
    Move.CANCEL_REQUESTED: ({R}, None),
    Move.CANCELLED: ({P}, X),
    Move.STOPPED: ({R}, X),
    Move.COMPLETED: ({R}, C),
    Move.COMPLETED_AFTER_CANCEL: ({R}, X),
    Move.FAILED: ({R}, F),
    Move.ABANDONED: ({R}, F),
    Move.STARTED: ({P}, R),
    Move.PRODUCER_COMPLETED: ({R}, C),
    Move.PRODUCER_FAILED: ({P, R}, F),
    Move.PRODUCER_CANCELLED: ({P, R}, X),
}
FACTS = {
    "worker": "w1", "attempt": 1, "max_attempts": 3, "error": "boom", "run_at": "t", "next": 2,
    "expired": "t",
}  # fmt: skip


def job_in(status: JobStatus, **fields: object) -> Job:
    job = NewJob("p", "Job", status=P, run_by_worker=True, max_attempts=3).to_job(T0)
    return Job(**{**{f: getattr(job, f) for f in job.__slots__}, "status": status, **fields})


def test_the_table_has_every_move() -> None:
    assert set(MOVES) == set(Move)
    assert {m for m in Move if m is not Move.CREATED} == set(EXPECTED)


@pytest.mark.parametrize(("status", "move"), list(itertools.product(JobStatus, EXPECTED)))
def test_every_status_and_move(status: JobStatus, move: Move) -> None:
    sources, target = EXPECTED[move]
    job = job_in(status, lease_owner="w1" if status is R else None)
    if status not in sources:
        with pytest.raises(IllegalTransition):
            decide(job, move, T0, **FACTS)
        return
    decision = decide(job, move, T0, **FACTS)
    after = decision.after
    assert after.status is (target or status)
    if move is Move.REPORTED:
        assert decision.event is None
        return
    event = decision.event
    assert event is not None and event.move == move.value and event.at == T0
    assert (event.from_status, event.to_status) == (status, after.status)
    assert "{" not in event.detail  # every fact the reason names was given
    if after.status.is_final:
        assert after.ended == T0 and after.lease_owner is None and after.lease_expires is None
    if after.status is P:
        assert after.lease_owner is None
    if after.status is C:
        assert after.progress == 100


def test_final_jobs_never_move() -> None:
    for status, move in itertools.product((C, F, X), Move):
        if move is Move.CREATED:
            continue
        with pytest.raises(IllegalTransition, match="is final"):
            decide(job_in(status), move, T0, **FACTS)


def test_a_claim_takes_a_lease_and_counts_the_attempt() -> None:
    decision = claim(job_in(P), "w1", T0, timedelta(seconds=30))
    after = decision.after
    assert (after.status, after.attempt, after.lease_owner) == (R, 1, "w1")
    assert after.lease_expires == T0 + timedelta(seconds=30) and after.started == T0
    assert decision.event is not None and decision.event.detail == "claimed by w1, attempt 1 of 3"


def test_a_retry_and_a_hand_back_wait_pending() -> None:
    running = claim(job_in(P), "w1", T0, timedelta(seconds=30)).after
    later = T0 + timedelta(seconds=2)
    retried = retry(running, T0, later, "ValueError: x")
    assert retried.after.status is P and retried.after.run_at == later and retried.after.lease_owner is None
    assert retried.event is not None and "attempt 1 failed (ValueError: x)" in retried.event.detail
    back = hand_back(running, T0, "w1")
    assert back.after.run_at == T0 and back.event is not None and "handed back by w1" in back.event.detail


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"attempt": 1, "max_attempts": 3}, P, "retry 2 of 3"),
        ({"attempt": 3, "max_attempts": 3}, F, "All 3 attempts are used."),
        ({"attempt": 1, "max_attempts": 1}, F, "The job is not safe to retry."),
        ({"attempt": 1, "max_attempts": 3, "cancel_requested": True}, X, "a cancel had been requested"),
    ],
)
def test_a_rescue_retries_fails_or_cancels(fields: dict[str, object], status: JobStatus, words: str) -> None:
    job = job_in(R, lease_owner="w9", lease_expires=T0, **fields)
    decision = rescue(job, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert decision.after.status is status and decision.event is not None
    assert "(w9) was lost" in decision.event.detail and words in decision.event.detail
    if status is F:
        assert decision.after.fail_reason == decision.event.detail


def test_a_run_ends_completed_never_after_a_cancel_stopped_failed_or_abandoned() -> None:
    asked = job_in(R, lease_owner="w1", cancel_requested=True, attempt=1)
    assert complete(asked, T0).after.status is X
    plain = job_in(R, lease_owner="w1", attempt=2)
    done = complete(plain, T0)
    assert done.after.status is C and done.event is not None and done.event.detail == "attempt 2 completed"
    failed = fail(plain, T0, "disk full")
    assert failed.after.fail_reason == "disk full" and failed.event is not None
    assert failed.event.detail == "attempt 2 failed"
    stopped = stop(plain, T0)
    assert stopped.event is not None and stopped.event.detail == "the handler stopped on a cancel request"
    left = abandon(plain, T0, "w1")
    assert left.after.status is F and left.after.fail_reason == left.event.detail  # type: ignore[union-attr]
    assert left.after.fail_reason.startswith("The worker w1 was stopped before the job finished")


def test_cancel_ends_pending_asks_running_and_refuses_the_rest() -> None:
    assert cancel(job_in(P), T0).after.status is X
    asked = cancel(job_in(R, lease_owner="w1"), T0)
    assert asked.after.status is R and asked.after.cancel_requested and asked.event is not None
    with pytest.raises(JobNotCancelable, match="reported by its producer"):
        cancel(job_in(R, run_by_worker=False), T0)
    with pytest.raises(JobNotCancelable, match="already ended"):
        cancel(job_in(C), T0)


def test_a_producer_report_moves_by_the_table() -> None:
    pending = job_in(P, run_by_worker=False)
    started = report(pending, JobPatch(status=R, progress=10), T0)
    assert started.after.status is R and started.after.started == T0 and started.after.progress == 10
    assert started.event is not None and started.event.move == "started"
    done = report(started.after, JobPatch(status=C, progress=40), T0)
    assert done.after.progress == 100 and done.after.ended == T0
    assert done.event is not None and done.event.detail == "completed by its producer"
    progress_only = report(started.after, JobPatch(progress=30, status=R), T0)
    assert progress_only.event is None and progress_only.after.progress == 30
    with pytest.raises(InvalidParameter, match="fail_reason"):
        report(started.after, JobPatch(fail_reason="x"), T0)
    failed = report(started.after, JobPatch(status=F, fail_reason="boom"), T0)
    assert failed.after.fail_reason == "boom"
    assert failed.event is not None and failed.event.detail == "failed by its producer"
    assert report(started.after, JobPatch(status=F), T0).after.fail_reason == ""
    assert report(pending, JobPatch(status=X), T0).event.move == "producer_cancelled"  # type: ignore[union-attr]
    with pytest.raises(IllegalTransition, match="cannot become Pending"):
        report(started.after, JobPatch(status=P), T0)


def test_the_readme_shows_the_table() -> None:
    """README.md's table of moves is this table, row for row."""

    def row(move: Move) -> str:
        rule = MOVES[move]
        sources = ", ".join(s.value for s in JobStatus if s in rule.sources) or "(new)"
        target = rule.target.value if rule.target else ("as submitted" if move is Move.CREATED else "(stays)")
        reason = f"`{rule.reason}`" if rule.reason else "(no event)"
        return f"| `{move.value}` | {sources} | {target} | {reason} |"

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    lines = readme.splitlines()
    start = lines.index("| Move (event type) | From | To | Reason (the event's detail) |") + 2
    end = lines.index("", start)
    assert lines[start:end] == [row(move) for move in MOVES]
