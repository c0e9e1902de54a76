"""Every (status, move) pair of domain/moves.py's table, walked through the store on both engines.

A *door* is one way the store is asked to change a job (a claim, a handler's report, a producer's
PATCH, a cancel, a run's end, a rescue). Each door is tried on a job in every status. Where the
door says it makes a move, the job must end in the table's state with that move, and the table's
reason, as its last event; everywhere else it must refuse (raise, or, for a sweep or a worker's
batch, leave the job out) and change nothing, the job's events included. Which move each door
makes from which status is written out here by hand, apart from the table; a last test checks
that the doors reach every legal pair of the table and claim no pair the table forbids.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskcenter.domain.errors import (
    IllegalTransition,
    JobNotCancelable,
    JobRunByWorker,
    LeaseLost,
    TaskcenterError,
)
from taskcenter.domain.job import Job, JobPatch, NewJob
from taskcenter.domain.moves import MOVES, Move
from taskcenter.domain.runs import Claim, Ending, Outcome
from taskcenter.domain.status import JobStatus
from taskcenter.ports import Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=5)
LATE = T0 + timedelta(hours=1)  # every lease has expired
LEASE = timedelta(seconds=30)
LONG_AGO = T0 - timedelta(days=365)
P, R, C, F, X = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED,
                 JobStatus.CANCELED)  # fmt: skip
EVERY = (R, C, F, X, P)  # the order jobs are made in: Pending last, so no setup claims it


def the_claim(job: Job) -> Claim:
    """The claim of the worker that ran the job last (``w1`` runs every job of these tests)."""
    return Claim(job.id, "w1", job.attempt)


async def finish(store: Store, job: Job, ending: Ending, error: str = "", retry_safe: bool = False) -> bool:
    [ended] = await store.finish_many([Outcome(the_claim(job), ending, error, retry_safe)], T1)
    return ended is not None


async def patch(store: Store, job: Job, status: JobStatus, **fields: Any) -> bool:
    await store.update_job(job.id, JobPatch(status=status, **fields), T1)
    return True


async def cancel(store: Store, job: Job) -> bool:
    await store.request_cancel("p1", [job.id], T1, LONG_AGO)
    return True


async def producer_progress(store: Store, job: Job) -> bool:
    await store.update_job(job.id, JobPatch(progress=40), T1)
    return True


async def handler_report(store: Store, job: Job) -> bool:
    await store.report(the_claim(job), JobPatch(progress=40), T1)
    return True


async def claim(store: Store) -> set[str]:
    return {job.id for job in await store.claim_jobs("w2", 10, T1, LEASE)}


async def rescue(store: Store) -> set[str]:
    return {job.id for job in await store.rescue_expired(LATE, 10)}


@dataclass(frozen=True)
class Door:
    name: str
    made: dict[JobStatus, Move]  # by hand: the move this door makes from each status it may
    act: Callable[[Store, Job], Awaitable[bool]] | None = None  # True: the store says it moved it
    sweep: Callable[[Store], Awaitable[set[str]]] | None = None  # a sweep over all due jobs
    refusal: type[TaskcenterError] | None = None  # what it raises where it makes no move
    worker_job: bool = True  # a job with a handler; else a producer's report-only job
    attempts: int = 3
    rounds: int = 1  # runs before the Running job's current one
    cancel_first: bool = False  # a cancel is requested of the Running job first


DOORS = [
    Door("claim", {P: Move.CLAIMED}, sweep=claim),
    Door("handler report", {R: Move.REPORTED}, handler_report, refusal=LeaseLost),
    Door("run returned", {R: Move.COMPLETED}, lambda s, j: finish(s, j, Ending.RETURNED)),
    Door(
        "run returned after a cancel", {R: Move.COMPLETED_AFTER_CANCEL},
        lambda s, j: finish(s, j, Ending.RETURNED), cancel_first=True,
    ),
    Door("run stopped", {R: Move.STOPPED}, lambda s, j: finish(s, j, Ending.STOPPED), cancel_first=True),
    Door("run gave up", {R: Move.FAILED}, lambda s, j: finish(s, j, Ending.GAVE_UP, "disk full")),
    Door(
        "run raised, safe to retry", {R: Move.RETRIED},
        lambda s, j: finish(s, j, Ending.RAISED, "ValueError: x", retry_safe=True),
    ),
    Door(
        "run raised on its last attempt", {R: Move.FAILED},
        lambda s, j: finish(s, j, Ending.RAISED, "ValueError: x", retry_safe=True), attempts=1,
    ),
    Door(
        "worker stopped, safe to run again", {R: Move.HANDED_BACK},
        lambda s, j: finish(s, j, Ending.INTERRUPTED, retry_safe=True),
    ),
    Door("worker stopped, unsafe", {R: Move.ABANDONED}, lambda s, j: finish(s, j, Ending.INTERRUPTED)),
    Door("rescue, attempts left", {R: Move.RESCUED}, sweep=rescue),
    Door("rescue, not safe to retry", {R: Move.LOST}, sweep=rescue, attempts=1),
    Door("rescue, last attempt", {R: Move.LOST_LAST}, sweep=rescue, attempts=2, rounds=2),
    Door("rescue, cancel pending", {R: Move.LOST_CANCELLING}, sweep=rescue, cancel_first=True),
    Door("cancel", {P: Move.CANCELLED, R: Move.CANCEL_REQUESTED}, cancel, refusal=JobNotCancelable),
    Door("cancel a producer's job", {P: Move.CANCELLED}, cancel, refusal=JobNotCancelable, worker_job=False),
    Door("producer patch of a worker's job", {}, lambda s, j: patch(s, j, R), refusal=JobRunByWorker),
    Door(
        "producer progress", {P: Move.REPORTED, R: Move.REPORTED},
        producer_progress, refusal=IllegalTransition, worker_job=False,
    ),
    Door(
        "producer start", {P: Move.STARTED, R: Move.REPORTED},
        lambda s, j: patch(s, j, R, progress=40), refusal=IllegalTransition, worker_job=False,
    ),
    Door(
        "producer complete", {R: Move.PRODUCER_COMPLETED},
        lambda s, j: patch(s, j, C), refusal=IllegalTransition, worker_job=False,
    ),
    Door(
        "producer fail", {P: Move.PRODUCER_FAILED, R: Move.PRODUCER_FAILED},
        lambda s, j: patch(s, j, F, fail_reason="boom"), refusal=IllegalTransition, worker_job=False,
    ),
    Door(
        "producer cancel", {P: Move.PRODUCER_CANCELLED, R: Move.PRODUCER_CANCELLED},
        lambda s, j: patch(s, j, X), refusal=IllegalTransition, worker_job=False,
    ),
]  # fmt: skip


async def job_in(store: Store, door: Door, status: JobStatus) -> Job:
    """A new job brought to ``status`` through the store, as the door needs it."""
    if not door.worker_job:
        job, _ = await store.create_job(NewJob("p1", "Report", status=P), T0)
        if status is not P:
            await store.update_job(job.id, JobPatch(status=R), T0)
        if status not in (P, R):
            await store.update_job(job.id, JobPatch(status=status), T0)
        return await found(store, job.id)
    new = NewJob("p1", "TaskcenterNoop", status=P, run_by_worker=True, max_attempts=door.attempts)
    job, _ = await store.create_job(new, T0)
    if status is X:
        await store.request_cancel("p1", [job.id], T0, LONG_AGO)
    if status in (R, C, F):
        now = T0
        for round_ in range(door.rounds):
            [job] = await store.claim_jobs("w1", 1, now, LEASE)
            if round_ + 1 < door.rounds:  # a retry, due a second later
                await store.finish_many([Outcome(the_claim(job), Ending.RAISED, "x", True)], now)
                now += timedelta(seconds=1)
    if status is C:
        await store.finish_many([Outcome(the_claim(job), Ending.RETURNED)], T0)
    if status is F:
        await store.finish_many([Outcome(the_claim(job), Ending.GAVE_UP, "no")], T0)
    if status is R and door.cancel_first:
        await store.request_cancel("p1", [job.id], T0, LONG_AGO)
    return await found(store, job.id)


async def found(store: Store, job_id: str) -> Job:
    job = await store.find_job(job_id)
    assert job is not None
    return job


def reason_pattern(move: Move) -> re.Pattern[str]:
    """The table's reason for ``move``, with each {fact} matching whatever fills it."""
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(MOVES[move].reason)))


@pytest.mark.parametrize("door", DOORS, ids=[d.name for d in DOORS])
async def test_every_status_through_the_door(store: Store, door: Door) -> None:
    jobs = {status: await job_in(store, door, status) for status in EVERY}
    assert {status: job.status for status, job in jobs.items()} == {s: s for s in EVERY}
    events = {status: await store.job_events(job.id) for status, job in jobs.items()}
    moved: dict[JobStatus, bool] = {}
    if door.sweep is not None:
        taken = await door.sweep(store)
        moved = {status: job.id in taken for status, job in jobs.items()}
    else:
        assert door.act is not None
        for status, job in jobs.items():
            if status in door.made or door.refusal is None:
                moved[status] = await door.act(store, job)
            else:
                with pytest.raises(door.refusal):
                    await door.act(store, job)
                moved[status] = False
    for status, before in jobs.items():
        after = await found(store, before.id)
        history = await store.job_events(before.id)
        move = door.made.get(status)
        if move is None:
            assert not moved[status], status
            assert after == before, status
            assert history == events[status], status
            continue
        assert moved[status], status
        rule = MOVES[move]
        assert after.status is (rule.target or status), (status, move)
        if move is Move.REPORTED:
            assert history == events[status] and after.progress == 40
            continue
        assert len(history) == len(events[status]) + 1
        event = history[-1]
        assert (event.from_status, event.to_status, event.move) == (status, after.status, move)
        assert reason_pattern(move).fullmatch(event.detail), (move, event.detail)
        if rule.target is F and move is not Move.FAILED and move is not Move.PRODUCER_FAILED:
            assert after.fail_reason == event.detail  # a worker's or maintenance's failure says why


async def test_a_created_job_begins_its_history(store: Store) -> None:
    job, _ = await store.create_job(NewJob("p1", "Report", status=P), T0)
    [event] = await store.job_events(job.id)
    assert (event.from_status, event.to_status, event.at, event.move) == (None, P, T0, Move.CREATED)
    assert reason_pattern(Move.CREATED).fullmatch(event.detail)


def test_the_doors_reach_every_legal_pair_and_no_other() -> None:
    reached = {(status, move) for door in DOORS for status, move in door.made.items()}
    legal = {(status, move) for move, rule in MOVES.items() for status in rule.sources}
    assert reached == legal
