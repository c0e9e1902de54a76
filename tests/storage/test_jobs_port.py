"""The jobs port's contract (ports.jobs.JobsPort): every engine runs it against a real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from taskcenter.domain.errors import IllegalTransition, InvalidParameter, JobNotFinished, JobNotFound
from taskcenter.domain.job import Instance, JobPatch, SubTask
from taskcenter.domain.requests import JobFilter, Page
from taskcenter.domain.status import JobStatus
from taskcenter.ports import Store
from tests.storage.contract import LONG_AGO, T0, new_job


async def test_created_job_reads_back_exactly(store: Store) -> None:
    instance = Instance("a48e43ff268f4c0e879652d65e63d0fbin07", "db-1")
    entities = {"instance": {"endpoint": "127.0.0.1:3306", "type": "Cluster"}, "resource_ids": ["x"]}
    job, created = await store.create_job(new_job(instance=instance, entities=entities), T0)
    assert created
    read = await store.get_job("p1", job.id, LONG_AGO)
    assert read == job
    assert read is not None
    assert read.status is JobStatus.RUNNING
    assert read.created == T0 and read.started == T0 and read.ended is None
    assert read.instance == instance and read.entities == entities


async def test_pending_job_has_no_start_time(store: Store) -> None:
    job, _ = await store.create_job(new_job(status=JobStatus.PENDING), T0)
    assert (await store.get_job("p1", job.id, LONG_AGO)).started is None  # type: ignore[union-attr]


async def test_another_projects_job_is_invisible(store: Store) -> None:
    job, _ = await store.create_job(new_job(project="p1"), T0)
    assert await store.get_job("p2", job.id, LONG_AGO) is None
    assert (await store.list_jobs("p2", JobFilter(), Page(1, 10), LONG_AGO)).total_count == 0
    with pytest.raises(JobNotFound):
        await store.delete_job("p2", job.id, LONG_AGO)


async def test_idempotency_key_returns_the_first_job(store: Store) -> None:
    first, created = await store.create_job(new_job(idempotency_key="k-1"), T0)
    again, created_again = await store.create_job(new_job(idempotency_key="k-1", name="Other"), T0)
    assert created and not created_again
    assert again == first
    other_project, created_other = await store.create_job(new_job("p2", idempotency_key="k-1"), T0)
    assert created_other and other_project.id != first.id


async def test_one_key_in_two_projects_replays_each_projects_own_job(store: Store) -> None:
    """A key is a project's own: project B using A's key gets its own job, and a replay in
    either project returns that project's job, whichever was created first."""
    b_job, _ = await store.create_job(new_job("p2", idempotency_key="shared", name="JobOfB"), T0)
    a_job, _ = await store.create_job(new_job("p1", idempotency_key="shared", name="JobOfA"), T0)
    assert a_job.id != b_job.id
    for _ in range(2):
        a_again, a_created = await store.create_job(new_job("p1", idempotency_key="shared"), T0)
        b_again, b_created = await store.create_job(new_job("p2", idempotency_key="shared"), T0)
        assert (a_again, a_created) == (a_job, False)
        assert (b_again, b_created) == (b_job, False)


async def test_concurrent_creates_with_one_key_make_one_job(store: Store) -> None:
    results = await asyncio.gather(
        *(store.create_job(new_job(idempotency_key="same"), T0) for _ in range(10))
    )
    assert len({job.id for job, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert (await store.list_jobs("p1", JobFilter(), Page(1, 50), LONG_AGO)).total_count == 1


async def test_patch_progress_sub_tasks_and_completion(store: Store) -> None:
    job, _ = await store.create_job(new_job(), T0)
    subs = (SubTask("create data dir", 100, "Completed", 0), SubTask("start server", 40, "Running", 12))
    later = T0 + timedelta(seconds=5)
    updated = await store.update_job(job.id, JobPatch(progress=60, sub_tasks=subs), later)
    assert updated.progress == 60 and updated.sub_tasks == subs
    assert await store.get_job("p1", job.id, LONG_AGO) == updated
    done = await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), later)
    assert done.status is JobStatus.COMPLETED and done.ended == later and done.progress == 100
    assert await store.get_job("p1", job.id, LONG_AGO) == done


async def test_every_status_change_leaves_an_event(store: Store) -> None:
    job, _ = await store.create_job(new_job(status=JobStatus.PENDING), T0)
    await store.update_job(job.id, JobPatch(status=JobStatus.RUNNING), T0 + timedelta(seconds=1))
    await store.update_job(job.id, JobPatch(progress=50), T0 + timedelta(seconds=2))
    await store.update_job(
        job.id, JobPatch(status=JobStatus.FAILED, fail_reason="disk full"), T0 + timedelta(seconds=3)
    )
    events = await store.job_events(job.id)
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, JobStatus.PENDING),
        (JobStatus.PENDING, JobStatus.RUNNING),
        (JobStatus.RUNNING, JobStatus.FAILED),
    ]
    assert events[-1].at == T0 + timedelta(seconds=3)
    failed = await store.get_job("p1", job.id, LONG_AGO)
    assert failed is not None and failed.fail_reason == "disk full"


@pytest.mark.parametrize("final", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED])
async def test_final_statuses_are_final(store: Store, final: JobStatus) -> None:
    job, _ = await store.create_job(new_job(), T0)
    await store.update_job(job.id, JobPatch(status=final), T0)
    for patch in (JobPatch(status=JobStatus.RUNNING), JobPatch(progress=10), JobPatch(status=final)):
        with pytest.raises(IllegalTransition):
            await store.update_job(job.id, patch, T0)
    after = await store.get_job("p1", job.id, LONG_AGO)
    assert after is not None and after.status is final
    assert len(await store.job_events(job.id)) == 2


async def test_illegal_move_changes_nothing(store: Store) -> None:
    job, _ = await store.create_job(new_job(status=JobStatus.PENDING), T0)
    with pytest.raises(IllegalTransition):
        await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED, progress=90), T0)
    with pytest.raises(InvalidParameter):
        await store.update_job(job.id, JobPatch(progress=30, fail_reason="nope"), T0)
    assert await store.get_job("p1", job.id, LONG_AGO) == job


async def test_concurrent_completions_only_one_wins(store: Store) -> None:
    job, _ = await store.create_job(new_job(), T0)
    outcomes = await asyncio.gather(
        store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), T0),
        store.update_job(job.id, JobPatch(status=JobStatus.FAILED, fail_reason="x"), T0),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert sum(isinstance(o, IllegalTransition) for o in outcomes) == 1
    assert len(await store.job_events(job.id)) == 2


async def test_update_unknown_job(store: Store) -> None:
    with pytest.raises(JobNotFound):
        await store.update_job("00000000-0000-4000-8000-000000000000", JobPatch(progress=1), T0)


async def test_retention_hides_jobs_that_ended_before_the_cutoff(store: Store) -> None:
    old, _ = await store.create_job(new_job(), T0)
    await store.update_job(old.id, JobPatch(status=JobStatus.COMPLETED), T0)
    running, _ = await store.create_job(new_job(), T0)
    cutoff = T0 + timedelta(seconds=1)
    assert await store.get_job("p1", old.id, cutoff) is None
    assert await store.get_job("p1", running.id, cutoff) is not None  # running jobs never expire
    listing = await store.list_jobs("p1", JobFilter(), Page(1, 10), cutoff)
    assert [j.id for j in listing.jobs] == [running.id] and listing.total_count == 1
    with pytest.raises(JobNotFound):
        await store.delete_job("p1", old.id, cutoff)


async def test_list_is_newest_first_with_stable_pages(store: Store) -> None:
    ids = [(await store.create_job(new_job(), T0))[0].id for _ in range(25)]  # same timestamp
    newest_first = list(reversed(ids))
    page1 = await store.list_jobs("p1", JobFilter(), Page(1, 10), LONG_AGO)
    page3 = await store.list_jobs("p1", JobFilter(), Page(3, 10), LONG_AGO)
    assert [j.id for j in page1.jobs] == newest_first[:10]
    assert [j.id for j in page3.jobs] == newest_first[20:]
    assert page1.total_count == 25
    # A concurrent insert shifts the pages by exactly one job, never reorders them.
    await store.create_job(new_job(), T0)
    page2 = await store.list_jobs("p1", JobFilter(), Page(2, 10), LONG_AGO)
    assert [j.id for j in page2.jobs] == newest_first[9:19]


async def test_list_filters_and_action_names(store: Store) -> None:
    a, _ = await store.create_job(new_job(name="RebootGaussDBforMySQLInstance"), T0)
    b, _ = await store.create_job(new_job(name="CreateGaussDBforMySQLInstance"), T0 + timedelta(hours=1))
    await store.update_job(b.id, JobPatch(status=JobStatus.COMPLETED), T0 + timedelta(hours=2))
    c, _ = await store.create_job(new_job(status=JobStatus.PENDING), T0 + timedelta(hours=3))

    async def ids(**where: object) -> list[str]:
        listing = await store.list_jobs("p1", JobFilter(**where), Page(1, 50), LONG_AGO)  # type: ignore[arg-type]
        return [j.id for j in listing.jobs]

    assert await ids(status=JobStatus.COMPLETED) == [b.id]
    assert await ids(job_name="RebootGaussDBforMySQLInstance") == [a.id]
    assert await ids(job_id=c.id) == [c.id]
    assert await ids(start_time=T0 + timedelta(minutes=30)) == [c.id, b.id]
    assert await ids(end_time=T0 + timedelta(minutes=30)) == [a.id]
    listing = await store.list_jobs("p1", JobFilter(status=JobStatus.PENDING), Page(1, 10), LONG_AGO)
    assert listing.total_count == 1
    assert listing.action_names == ["CreateGaussDBforMySQLInstance", "RebootGaussDBforMySQLInstance"]


async def test_delete_only_finished_jobs(store: Store) -> None:
    running, _ = await store.create_job(new_job(), T0)
    with pytest.raises(JobNotFinished):
        await store.delete_job("p1", running.id, LONG_AGO)
    await store.update_job(running.id, JobPatch(status=JobStatus.COMPLETED), T0)
    await store.delete_job("p1", running.id, LONG_AGO)
    assert await store.get_job("p1", running.id, LONG_AGO) is None
    assert await store.job_events(running.id) == []
    with pytest.raises(JobNotFound):
        await store.delete_job("p1", running.id, LONG_AGO)
