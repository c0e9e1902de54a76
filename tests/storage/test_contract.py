"""The storage contract: every engine runs these same tests against a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from taskcenter.domain.errors import (
    IllegalTransition,
    InstanceBusy,
    InstanceNotFound,
    InvalidParameter,
    JobNotFinished,
    JobNotFound,
)
from taskcenter.domain.instance import Backup, DbInstance, InstanceStatus
from taskcenter.domain.instance_queries import BackupFilter, InstanceFilter
from taskcenter.domain.job import Instance, JobPatch, NewJob, SubTask
from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User
from taskcenter.domain.requests import JobFilter, Page
from taskcenter.domain.status import JobStatus
from taskcenter.storage.base import Store

T0 = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
LONG_AGO = T0 - timedelta(days=365)


def new_job(project: str = "p1", name: str = "CreateGaussDBforMySQLInstance", **kw: object) -> NewJob:
    return NewJob(project_id=project, name=name, **kw)  # type: ignore[arg-type]


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


async def test_identity_is_created_all_or_nothing(store: Store) -> None:
    assert not await store.has_users()
    project = Project("a" * 32, "alpha")
    user = User("u" * 32, "alpha", project.id, "$argon2id$hash", False)
    key = AccessKey("AKAKAKAKAKAKAKAKAKAK", "secret", user.id)
    assert await store.create_identity(project, user, key)
    assert await store.has_users()
    # A second project under a taken user name leaves no stray project behind.
    other = Project("b" * 32, "beta")
    clash = User("v" * 32, "alpha", other.id, "h", False)
    assert not await store.create_identity(other, clash, AccessKey("AK2", "s", clash.id))
    assert await store.get_project(other.id) is None
    assert await store.get_project_by_name("alpha") == project
    assert await store.get_user_by_name("alpha") == user
    found = await store.get_access_key(key.access_key)
    assert found == (key, Principal(user.id, "alpha", project.id, "alpha", False))
    assert await store.get_access_key("nope") is None


async def test_tokens_are_found_by_hash(store: Store) -> None:
    project = Project("c" * 32, "gamma")
    user = User("w" * 32, "gamma", project.id, "h", True)
    await store.create_identity(project, user, AccessKey("AK3", "s", user.id))
    principal = Principal(user.id, "gamma", project.id, "gamma", True)
    token = IssuedToken("f" * 64, principal, T0, T0 + timedelta(hours=24))
    await store.save_token(token)
    assert await store.get_token("f" * 64) == token
    assert await store.get_token("e" * 64) is None


# Instances and backups (the local MariaDB driver's records)


def db_instance(instance_id: str, project: str = "p1", **kw: object) -> DbInstance:
    fields: dict[str, object] = {"name": f"db-{instance_id}", "status": InstanceStatus.NORMAL}
    fields.update({"flavor_ref": "gaussdb.mysql.small.x86.2", "created": T0, "updated": T0, **kw})
    return DbInstance(id=instance_id, project_id=project, **fields)  # type: ignore[arg-type]


async def test_an_instance_reads_back_exactly_and_only_in_its_project(store: Store) -> None:
    request = {"region": "eu-west-0", "datastore": {"type": "gaussdb-mysql"}, "tags": [{"名": "值"}]}
    instance = db_instance("i1", port=3307, request=request)
    await store.create_instance(instance)
    assert await store.get_instance("p1", "i1") == instance
    assert await store.get_instance(None, "i1") == instance  # the workers' lookup, for any project
    assert await store.get_instance("p2", "i1") is None  # another project's: as if it did not exist
    assert await store.get_instance("p1", "i2") is None


async def test_instances_are_listed_per_project_oldest_first_without_the_deleted(store: Store) -> None:
    for n, instance_id in enumerate(["c", "a", "b", "d", "e"]):
        await store.create_instance(db_instance(instance_id, created=T0 + timedelta(seconds=n % 3)))
    await store.create_instance(db_instance("x", project="p2"))
    await store.update_instance("e", T0, status=InstanceStatus.DELETED)
    instances, total = await store.list_instances("p1", InstanceFilter(), 0, 10)
    # c and d at T0, a at T0+1s, b at T0+2s: ties by id.
    assert [i.id for i in instances] == ["c", "d", "a", "b"] and total == 4
    page, total = await store.list_instances("p1", InstanceFilter(), 1, 2)
    assert [i.id for i in page] == ["d", "a"] and total == 4
    assert [i.id for i in (await store.list_instances("p2", InstanceFilter(), 0, 10))[0]] == ["x"]
    assert await store.list_instances("p3", InstanceFilter(), 0, 10) == ([], 0)


async def test_an_instance_update_changes_only_what_it_names(store: Store) -> None:
    await store.create_instance(db_instance("i1", status=InstanceStatus.CREATING))
    later = T0 + timedelta(minutes=1)
    started = await store.update_instance("i1", later, status=InstanceStatus.NORMAL, port=3310)
    assert started == db_instance("i1", port=3310, updated=later)
    resized = await store.update_instance(
        "i1", later + timedelta(minutes=1), flavor_ref="gaussdb.mysql.large.x86.4"
    )
    assert (resized.status, resized.port, resized.flavor_ref) == ("normal", 3310, "gaussdb.mysql.large.x86.4")
    assert resized.updated == later + timedelta(minutes=1) and resized.created == T0
    assert await store.get_instance("p1", "i1") == resized
    with pytest.raises(InstanceNotFound):
        await store.update_instance("unknown", later, status=InstanceStatus.NORMAL)


async def test_instances_with_status_spans_every_project(store: Store) -> None:
    await store.create_instance(db_instance("i1", status=InstanceStatus.NORMAL))
    await store.create_instance(db_instance("i2", project="p2", status=InstanceStatus.NORMAL))
    await store.create_instance(db_instance("i3", status=InstanceStatus.CREATING))
    await store.create_instance(db_instance("i4", status=InstanceStatus.DELETED))
    normal = await store.instances_with_status([InstanceStatus.NORMAL])
    assert sorted(i.id for i in normal) == ["i1", "i2"]
    both = await store.instances_with_status([InstanceStatus.NORMAL, InstanceStatus.CREATING])
    assert sorted(i.id for i in both) == ["i1", "i2", "i3"]
    assert await store.instances_with_status(["createfail"]) == []


async def test_the_unfinished_job_of_an_instance(store: Store) -> None:
    on_i1 = Instance("i1", "db-i1")
    assert await store.unfinished_job_of_instance("i1") is None
    job, _ = await store.create_job(new_job(instance=on_i1), T0)
    await store.create_job(new_job(instance=Instance("i2", "db-i2")), T0)
    assert await store.unfinished_job_of_instance("i1") == job
    await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), T0)
    assert await store.unfinished_job_of_instance("i1") is None


async def test_one_operation_at_a_time_per_instance(store: Store) -> None:
    on_i1 = Instance("i1", "db-i1")

    def operation(instance: Instance = on_i1) -> NewJob:
        return new_job(name="RebootGaussDBforMySQLInstance", instance=instance, exclusive=True)

    first, _ = await store.create_job(operation(), T0)
    with pytest.raises(InstanceBusy):
        await store.create_job(operation(), T0)
    other, created = await store.create_job(operation(Instance("i2", "db-i2")), T0)  # another instance
    assert created
    listing = await store.list_jobs("p1", JobFilter(), Page(1, 10), LONG_AGO)
    assert sorted(j.id for j in listing.jobs) == sorted([first.id, other.id])  # the refused left nothing
    await store.update_job(first.id, JobPatch(status=JobStatus.COMPLETED), T0)
    _, created = await store.create_job(operation(), T0)  # the first ended: the next may start
    assert created


async def test_concurrent_operations_on_one_instance_let_exactly_one_in(store: Store) -> None:
    on_i1 = Instance("i1", "db-i1")
    outcomes = await asyncio.gather(
        *(store.create_job(new_job(instance=on_i1, exclusive=True), T0) for _ in range(8)),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert sum(isinstance(o, InstanceBusy) for o in outcomes) == 7


async def test_backups_read_back_update_and_stay_in_their_project(store: Store) -> None:
    building = Backup("b1", "p1", "i1", "backup-1", "BUILDING", T0, "nightly 备份")
    await store.save_backup(building)
    assert await store.get_backup("p1", "b1") == building
    assert await store.get_backup("p2", "b1") is None
    assert await store.get_backup("p1", "b2") is None
    done = Backup(
        "b1", "p1", "i1", "backup-1", "COMPLETED", T0, "nightly 备份", 4096, T0 + timedelta(minutes=2)
    )
    await store.save_backup(done)
    assert await store.get_backup("p1", "b1") == done


async def test_backups_are_listed_newest_first_per_project_and_instance(store: Store) -> None:
    for n, (backup_id, instance_id) in enumerate([("b1", "i1"), ("b2", "i2"), ("b3", "i1"), ("b4", "i1")]):
        await store.save_backup(
            Backup(backup_id, "p1", instance_id, f"bk-{n}", "COMPLETED", T0 + timedelta(hours=n))
        )
    await store.save_backup(Backup("b9", "p2", "i9", "other", "COMPLETED", T0))
    backups, total = await store.list_backups("p1", BackupFilter(), 0, 10)
    assert [b.id for b in backups] == ["b4", "b3", "b2", "b1"] and total == 4
    backups, total = await store.list_backups("p1", BackupFilter(instance_id="i1"), 1, 1)
    assert [b.id for b in backups] == ["b3"] and total == 3
    assert await store.list_backups("p1", BackupFilter(instance_id="i9"), 0, 10) == (
        [],
        0,
    )  # another project's instance
    assert [b.id for b in (await store.list_backups("p2", BackupFilter(), 0, 10))[0]] == ["b9"]
