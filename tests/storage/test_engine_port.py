"""The engine port's contract (ports.engine.EnginePort): every engine runs it against a real database,
with a pinned clock and no sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from taskcenter.domain.errors import JobNotCancelable, JobNotFound, JobRunByWorker, LeaseLost
from taskcenter.domain.job import Job, JobPatch, NewJob
from taskcenter.domain.requests import ScheduleFilter
from taskcenter.domain.runs import Claim, Ending, Outcome
from taskcenter.domain.status import JobStatus
from taskcenter.ports import Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
LONG_AGO = T0 - timedelta(days=365)


def worker_job(name: str = "TaskcenterNoop", attempts: int = 1, **kw: object) -> NewJob:
    return NewJob("p1", name, status=JobStatus.PENDING, run_by_worker=True, max_attempts=attempts, **kw)  # type: ignore[arg-type]


def claim_of(job_id: str, worker: str = "w1", attempt: int = 1) -> Claim:
    return Claim(job_id, worker, attempt)


async def finish(
    store: Store, claim: Claim, ending: Ending, now: datetime, error: str = "", retry_safe: bool = False
) -> Job | None:
    [ended] = await store.finish_many([Outcome(claim, ending, error, retry_safe)], now)
    return ended


async def test_claim_takes_due_jobs_oldest_first_under_a_lease(store: Store) -> None:
    first, _ = await store.create_job(worker_job(), T0)
    second, _ = await store.create_job(worker_job(), T0 + timedelta(seconds=1))
    report_only, _ = await store.create_job(NewJob("p1", "Report", status=JobStatus.PENDING), T0)
    claimed = await store.claim_jobs("w1", 10, T0 + timedelta(seconds=1), LEASE)
    assert [j.id for j in claimed] == [first.id, second.id]
    job = await store.find_job(first.id)
    assert job is not None and job.status is JobStatus.RUNNING and job.attempt == 1
    assert job.lease_owner == "w1" and job.lease_expires == T0 + timedelta(seconds=1) + LEASE
    assert job.started == T0 + timedelta(seconds=1)
    assert (await store.find_job(report_only.id)).status is JobStatus.PENDING  # type: ignore[union-attr]
    assert await store.claim_jobs("w2", 10, T0 + timedelta(seconds=2), LEASE) == []
    events = await store.job_events(first.id)
    assert events[-1].to_status is JobStatus.RUNNING and "claimed by w1" in events[-1].detail


async def test_scheduled_job_waits_for_its_start_time(store: Store) -> None:
    job, _ = await store.create_job(worker_job(run_at=T0 + timedelta(hours=2)), T0)
    assert await store.claim_jobs("w1", 10, T0 + timedelta(hours=1), LEASE) == []
    claimed = await store.claim_jobs("w1", 10, T0 + timedelta(hours=2), LEASE)
    assert [j.id for j in claimed] == [job.id]


async def test_concurrent_claims_never_share_a_job(store: Store) -> None:
    for _ in range(30):
        await store.create_job(worker_job(), T0)
    batches = await asyncio.gather(*(store.claim_jobs(f"w{i}", 4, T0, LEASE) for i in range(10)))
    ids = [j.id for batch in batches for j in batch]
    assert len(ids) == len(set(ids)) == 30


async def test_heartbeat_renews_and_reports_cancels(store: Store) -> None:
    a, _ = await store.create_job(worker_job(), T0)
    b, _ = await store.create_job(worker_job(), T0)
    await store.claim_jobs("w1", 10, T0, LEASE)
    await store.request_cancel("p1", [b.id], T0, LONG_AGO)
    status = await store.renew_leases("w1", [a.id, b.id], T0 + timedelta(seconds=20), LEASE)
    assert status.held == {a.id, b.id} and status.cancel_requested == {b.id}
    job = await store.find_job(a.id)
    assert job is not None and job.lease_expires == T0 + timedelta(seconds=50)
    assert (await store.renew_leases("w2", [a.id], T0, LEASE)).held == frozenset()


async def test_reports_and_finish_are_fenced_by_the_claim(store: Store) -> None:
    job, _ = await store.create_job(worker_job(), T0)
    await store.claim_jobs("w1", 1, T0, LEASE)
    updated = await store.report(claim_of(job.id), JobPatch(progress=40), T0)
    assert updated.progress == 40
    for stale in (claim_of(job.id, "w2"), claim_of(job.id, attempt=2)):
        with pytest.raises(LeaseLost):
            await store.report(stale, JobPatch(progress=90), T0)
        assert await finish(store, stale, Ending.RETURNED, T0) is None
    done = await finish(store, claim_of(job.id), Ending.RETURNED, T0 + timedelta(seconds=3))
    assert done is not None and done.progress == 100
    assert done.status is JobStatus.COMPLETED and done.lease_owner is None
    with pytest.raises(LeaseLost):
        await store.report(claim_of(job.id), JobPatch(progress=10), T0)


async def test_lost_worker_retry_safe_job_is_retried_with_backoff(store: Store) -> None:
    job, _ = await store.create_job(worker_job(attempts=3), T0)
    await store.claim_jobs("w1", 1, T0, LEASE)
    assert await store.rescue_expired(T0 + LEASE, 10) == []  # not yet expired
    later = T0 + LEASE + timedelta(seconds=1)
    [rescued] = await store.rescue_expired(later, 10)
    assert rescued.status is JobStatus.PENDING and rescued.lease_owner is None
    assert rescued.run_at == later + timedelta(seconds=1)  # backoff after attempt 1
    events = await store.job_events(job.id)
    assert "w1" in events[-1].detail and "retry 2 of 3" in events[-1].detail
    # The lost worker can no longer touch the job.
    assert await finish(store, claim_of(job.id), Ending.RETURNED, later) is None
    assert await store.claim_jobs("w2", 1, later, LEASE) == []  # backoff not over
    [again] = await store.claim_jobs("w2", 1, later + timedelta(seconds=1), LEASE)
    assert again.attempt == 2 and again.lease_owner == "w2"


async def test_lost_worker_unsafe_job_fails_saying_why(store: Store) -> None:
    await store.create_job(worker_job(attempts=1), T0)
    await store.claim_jobs("w1", 1, T0, LEASE)
    [rescued] = await store.rescue_expired(T0 + timedelta(minutes=5), 10)
    assert rescued.status is JobStatus.FAILED and rescued.ended == T0 + timedelta(minutes=5)
    assert "worker running this job (w1) was lost" in rescued.fail_reason
    assert "not safe to retry" in rescued.fail_reason


async def test_last_attempt_lost_fails(store: Store) -> None:
    await store.create_job(worker_job(attempts=2), T0)
    now = T0
    for _ in range(2):
        assert len(await store.claim_jobs("w", 1, now, LEASE)) == 1
        now += LEASE + timedelta(minutes=10)
        [rescued] = await store.rescue_expired(now, 10)
        now += timedelta(minutes=1)  # past the retry's backoff
    assert rescued.status is JobStatus.FAILED and "All 2 attempts are used" in rescued.fail_reason


async def test_completion_after_cancel_is_recorded_canceled(store: Store) -> None:
    job, _ = await store.create_job(worker_job(), T0)
    await store.claim_jobs("w1", 1, T0, LEASE)
    assert await store.request_cancel("p1", [job.id], T0, LONG_AGO) == [job.id]
    ended = await finish(store, claim_of(job.id), Ending.RETURNED, T0)
    assert ended is not None and ended.status is JobStatus.CANCELED
    assert (await store.job_events(job.id))[-1].detail == "the handler finished after a cancel was accepted"


@pytest.mark.parametrize("attempts", [1, 3])
async def test_a_rescued_job_whose_cancel_was_pending_ends_canceled(store: Store, attempts: int) -> None:
    """Neither retried (attempts left) nor failed (none left): the cancel was accepted."""
    job, _ = await store.create_job(worker_job(attempts=attempts), T0)
    await store.claim_jobs("w1", 1, T0, LEASE)
    assert await store.request_cancel("p1", [job.id], T0, LONG_AGO) == [job.id]
    later = T0 + LEASE + timedelta(seconds=1)
    [rescued] = await store.rescue_expired(later, 10)
    assert rescued.status is JobStatus.CANCELED and rescued.ended == later and rescued.fail_reason == ""
    assert await store.find_job(job.id) == rescued
    event = (await store.job_events(job.id))[-1]
    assert (event.from_status, event.to_status) == (JobStatus.RUNNING, JobStatus.CANCELED)
    assert "w1" in event.detail and "a cancel had been requested" in event.detail
    assert await store.claim_jobs("w2", 1, later + timedelta(hours=1), LEASE) == []


async def test_cancel_rules(store: Store) -> None:
    pending, _ = await store.create_job(worker_job(run_at=T0 + timedelta(days=1)), T0)
    report, _ = await store.create_job(NewJob("p1", "Report"), T0)
    assert await store.request_cancel("p1", [pending.id], T0, LONG_AGO) == [pending.id]
    canceled = await store.find_job(pending.id)
    assert canceled is not None and canceled.status is JobStatus.CANCELED and canceled.ended == T0
    with pytest.raises(JobNotCancelable, match="already ended"):
        await store.request_cancel("p1", [pending.id], T0, LONG_AGO)
    with pytest.raises(JobNotCancelable, match="producer"):
        await store.request_cancel("p1", [report.id], T0, LONG_AGO)
    with pytest.raises(JobNotFound):
        await store.request_cancel("p2", [report.id], T0, LONG_AGO)


async def test_cancel_is_all_or_nothing(store: Store) -> None:
    a, _ = await store.create_job(worker_job(run_at=T0 + timedelta(days=1)), T0)
    done, _ = await store.create_job(worker_job(run_at=T0 + timedelta(days=1)), T0)
    await store.request_cancel("p1", [done.id], T0, LONG_AGO)
    with pytest.raises(JobNotCancelable):
        await store.request_cancel("p1", [a.id, done.id], T0, LONG_AGO)
    still = await store.find_job(a.id)
    assert still is not None and still.status is JobStatus.PENDING


async def test_producers_cannot_patch_worker_jobs(store: Store) -> None:
    job, _ = await store.create_job(worker_job(), T0)
    with pytest.raises(JobRunByWorker):
        await store.update_job(job.id, JobPatch(status=JobStatus.RUNNING), T0)


async def test_a_retry_and_a_hand_back_make_the_job_due_again(store: Store) -> None:
    job, _ = await store.create_job(worker_job(attempts=3), T0)
    await store.claim_jobs("w1", 1, T0, LEASE)
    retried = await finish(store, claim_of(job.id), Ending.RAISED, T0, "ValueError: x", retry_safe=True)
    assert retried is not None and retried.status is JobStatus.PENDING and retried.lease_owner is None
    assert retried.run_at == T0 + timedelta(seconds=1)  # backoff after attempt 1
    assert await store.claim_jobs("w2", 1, T0, LEASE) == []
    [again] = await store.claim_jobs("w2", 1, T0 + timedelta(seconds=1), LEASE)
    assert again.attempt == 2
    back = await finish(store, claim_of(job.id, "w2", 2), Ending.INTERRUPTED, T0, retry_safe=True)
    assert back is not None and back.status is JobStatus.PENDING and back.run_at == T0
    assert "handed back by w2" in (await store.job_events(job.id))[-1].detail


async def test_purge_removes_only_jobs_past_retention_in_batches(store: Store) -> None:
    old = []
    for _ in range(5):
        job, _ = await store.create_job(NewJob("p1", "Report"), T0)
        await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), T0)
        old.append(job.id)
    recent, _ = await store.create_job(NewJob("p1", "Report"), T0)
    await store.update_job(recent.id, JobPatch(status=JobStatus.COMPLETED), T0 + timedelta(days=10))
    running, _ = await store.create_job(NewJob("p1", "Report"), T0 - timedelta(days=90))
    cutoff = T0 + timedelta(days=1)
    assert await store.purge_ended(cutoff, 2) == 2
    assert await store.purge_ended(cutoff, 10) == 3
    assert await store.purge_ended(cutoff, 10) == 0
    for job_id in old:
        assert await store.find_job(job_id) is None and await store.job_events(job_id) == []
    assert await store.find_job(recent.id) is not None
    assert await store.find_job(running.id) is not None


async def test_one_leader_at_a_time(store: Store) -> None:
    ttl = timedelta(seconds=15)
    assert await store.try_lead("maintenance", "a", T0, ttl)
    assert not await store.try_lead("maintenance", "b", T0 + timedelta(seconds=5), ttl)
    assert await store.try_lead("maintenance", "a", T0 + timedelta(seconds=10), ttl)  # renews
    assert not await store.try_lead("maintenance", "b", T0 + timedelta(seconds=20), ttl)
    assert await store.try_lead("maintenance", "b", T0 + timedelta(seconds=26), ttl)  # a expired
    assert not await store.try_lead("maintenance", "a", T0 + timedelta(seconds=27), ttl)


async def test_scheduled_list_and_filters(store: Store) -> None:
    from taskcenter.domain.job import Instance

    soon, _ = await store.create_job(
        worker_job(
            "ResizeGaussDBforMySQLFlavor", run_at=T0 + timedelta(hours=1), instance=Instance("i1", "db")
        ),
        T0,
    )
    later, _ = await store.create_job(worker_job(run_at=T0 + timedelta(hours=5)), T0)
    await store.create_job(worker_job(), T0)  # not scheduled: runs at once
    jobs, total = await store.list_scheduled("p1", ScheduleFilter(), 0, 100, LONG_AGO)
    assert total == 2 and [j.id for j in jobs] == [later.id, soon.id]
    jobs, _ = await store.list_scheduled("p1", ScheduleFilter(instance_id="i1"), 0, 100, LONG_AGO)
    assert [j.id for j in jobs] == [soon.id]
    jobs, _ = await store.list_scheduled(
        "p1", ScheduleFilter(start_time=T0 + timedelta(hours=2)), 0, 100, LONG_AGO
    )
    assert [j.id for j in jobs] == [later.id]
    jobs, total = await store.list_scheduled("p1", ScheduleFilter(), 1, 1, LONG_AGO)
    assert total == 2 and [j.id for j in jobs] == [soon.id]
    assert (await store.list_scheduled("p2", ScheduleFilter(), 0, 100, LONG_AGO))[1] == 0


async def test_a_batch_of_ends_is_fenced_per_job(store: Store) -> None:
    jobs = [(await store.create_job(worker_job(), T0))[0] for _ in range(4)]
    await store.claim_jobs("w1", 4, T0, LEASE)
    outcomes = [
        Outcome(claim_of(jobs[0].id), Ending.RETURNED),
        Outcome(claim_of(jobs[1].id), Ending.GAVE_UP, "disk full"),
        Outcome(claim_of(jobs[2].id, "intruder"), Ending.RETURNED),
        Outcome(claim_of(jobs[3].id), Ending.STOPPED),
    ]
    ended = await store.finish_many(outcomes, T0 + timedelta(seconds=1))
    assert [e.status if e else None for e in ended] == [
        JobStatus.COMPLETED, JobStatus.FAILED, None, JobStatus.CANCELED
    ]  # fmt: skip
    failed = await store.find_job(jobs[1].id)
    assert (
        failed is not None and failed.fail_reason == "disk full" and failed.ended == T0 + timedelta(seconds=1)
    )
    untouched = await store.find_job(jobs[2].id)
    assert untouched is not None and untouched.status is JobStatus.RUNNING
    details = [(await store.job_events(j.id))[-1].detail for j in (jobs[0], jobs[1], jobs[3])]
    assert details == ["attempt 1 completed", "attempt 1 failed", "the handler stopped on a cancel request"]


async def test_secrets_in_params_are_erased_when_the_job_ends(store: Store) -> None:
    params = {"instance_id": "i1", "secrets": {"password_hash": "*ABC"}}
    finished, _ = await store.create_job(worker_job(params=params), T0)
    lost, _ = await store.create_job(worker_job(params=params), T0)
    waiting, _ = await store.create_job(worker_job(params=params, run_at=T0 + timedelta(days=1)), T0)
    claimed = await store.claim_jobs("w1", 2, T0, LEASE)
    assert all(job.params == params for job in claimed)  # the handler gets them while it runs
    await finish(store, claim_of(finished.id), Ending.RETURNED, T0)
    await store.rescue_expired(T0 + LEASE + timedelta(seconds=1), 10)
    await store.request_cancel("p1", [waiting.id], T0, LONG_AGO)
    for job_id in (finished.id, lost.id, waiting.id):
        job = await store.find_job(job_id)
        assert job is not None and job.status.is_final
        assert job.params == {"instance_id": "i1"}


SLACK = timedelta(milliseconds=50)  # the database's clock and this process's are this machine's


async def test_without_a_now_the_stores_clock_decides_leases(store: Store) -> None:
    """What workers and maintenance do in production: PostgreSQL's clock (one for every node)."""
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    lost, _ = await store.create_job(worker_job(attempts=3), hour_ago)
    await store.claim_jobs("w0", 1, hour_ago, LEASE)  # by a clock an hour behind: long expired
    held, _ = await store.create_job(worker_job(), hour_ago)
    before = datetime.now(UTC)
    [claimed] = await store.claim_jobs("w1", 1, None, LEASE)
    after = datetime.now(UTC)
    assert claimed.id == held.id and claimed.lease_expires is not None
    assert before + LEASE - SLACK <= claimed.lease_expires <= after + LEASE + SLACK
    assert before - SLACK <= (await store.job_events(held.id))[-1].at <= after + SLACK
    [rescued] = await store.rescue_expired(None, 10)  # the other lease runs by the same clock
    assert rescued.id == lost.id and rescued.run_at is not None
    assert before - SLACK + timedelta(seconds=1) <= rescued.run_at  # backoff from the store's now
    renewed = await store.renew_leases("w1", [held.id], None, LEASE)
    assert renewed.held == {held.id}
    job = await store.find_job(held.id)
    assert job is not None and job.lease_expires is not None and job.lease_expires >= claimed.lease_expires
    [ended] = await store.finish_many([Outcome(claim_of(held.id), Ending.RETURNED)], None)
    assert ended is not None and ended.ended is not None and before - SLACK <= ended.ended


async def test_a_leader_that_resigns_is_followed_at_once(store: Store) -> None:
    ttl = timedelta(minutes=5)
    assert await store.try_lead("maintenance", "a", None, ttl)
    assert not await store.try_lead("maintenance", "b", None, ttl)
    await store.resign("maintenance", "b")  # not the leader: changes nothing
    assert not await store.try_lead("maintenance", "b", None, ttl)
    await store.resign("maintenance", "a")
    assert await store.try_lead("maintenance", "b", None, ttl)
    assert not await store.try_lead("maintenance", "a", None, ttl)
