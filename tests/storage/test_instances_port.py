"""The instances port's contract (ports.instances.InstancesPort): instances and backups, their
lists' filters applied in SQL, and an instance's jobs; every engine runs it against a real
database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskcenter.domain.errors import InstanceBusy, InstanceNotFound
from taskcenter.domain.instance import Backup, DbInstance, InstanceStatus
from taskcenter.domain.instance_queries import (
    BackupFilter,
    InstanceFilter,
    TextMatch,
    parse_backup_query,
    parse_instance_query,
)
from taskcenter.domain.job import Instance, JobPatch, NewJob
from taskcenter.domain.requests import JobFilter, Page
from taskcenter.domain.status import JobStatus
from taskcenter.ports import Store
from tests.storage.contract import LONG_AGO, T0, db_instance, new_job


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


# The lists' filters, as the SDK documents them

ON_THE_MINUTE = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
FLAVOR = "gaussdb.mysql.small.x86.2"


def instance(
    instance_id: str, name: str, minute: int, project: str = "p1", status: str = InstanceStatus.NORMAL,
    **request: Any,
) -> DbInstance:  # fmt: skip
    at = ON_THE_MINUTE + timedelta(minutes=minute)
    return DbInstance(instance_id, project, name, status, FLAVOR, at, at, 3306, request)


async def seed_instances(store: Store) -> None:
    for item in (
        instance("a1in07", "orders-db", 1, vpc_id="vpc-1", subnet_id="net-1",
                 tags=[{"key": "env", "value": "prod"}, {"key": "team", "value": "shop"}]),
        instance("b2in07", "orders-copy", 2, vpc_id="vpc-1", subnet_id="net-2",
                 tags=[{"key": "env", "value": "test"}]),
        instance("c3in07", "billing", 3, status=InstanceStatus.CREATING, vpc_id="vpc-2",
                 tags=[{"key": "team", "value": "shop"}]),
        instance("d4in07", "broken", 4, status=InstanceStatus.CREATEFAIL, vpc_id="vpc-2"),
        instance("e5in07", "orders-old", 5, status=InstanceStatus.DELETED, vpc_id="vpc-1"),
        instance("f6in07", "orders-db", 6, project="p2", vpc_id="vpc-1"),
        # A malformed tag list (not objects) never fails a query, it matches nothing.
        instance("g7in07", "odd-tags", 7, tags=["env=prod", 3]),
    ):  # fmt: skip
        await store.create_instance(item)


async def listed(
    store: Store, where: InstanceFilter, offset: int = 0, limit: int = 100
) -> tuple[list[str], int]:
    instances, total = await store.list_instances("p1", where, offset, limit)
    return [i.id for i in instances], total


async def test_instance_filters_match_as_the_sdk_documents(store: Store) -> None:
    await seed_instances(store)
    every = ["a1in07", "b2in07", "c3in07", "d4in07", "g7in07"]  # not deleted, this project, oldest first
    assert await listed(store, InstanceFilter()) == (every, 5)
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"name": "orders-db"}, ["a1in07"]),  # exact
        ({"name": "orders"}, []),
        ({"name": "*orders"}, ["a1in07", "b2in07"]),  # "*text": contains text
        ({"name": "*ORDERS"}, []),  # case counts, on both stores alike
        ({"name": "*-"}, ["a1in07", "b2in07", "g7in07"]),
        ({"name": "*%"}, []),  # no LIKE wildcards
        ({"name": "*_"}, []),
        ({"id": "b2in07"}, ["b2in07"]),
        ({"id": "*in07"}, every),
        ({"id": "*3in"}, ["c3in07"]),
        ({"vpc_id": "vpc-1"}, ["a1in07", "b2in07"]),
        ({"vpc_id": "vpc-1", "subnet_id": "net-2"}, ["b2in07"]),
        ({"subnet_id": "net-9"}, []),
        ({"tags": "team=shop"}, ["a1in07", "c3in07"]),
        ({"tags": "team=shop,env=prod"}, ["a1in07"]),  # every pair must hold
        ({"tags": "env=prod"}, ["a1in07"]),
        ({"tags": "env=pro"}, []),
        ({"private_ip": "127.0.0.1"}, ["a1in07", "b2in07", "g7in07"]),  # a server, so an address
        ({"private_ip": "10.0.0.1"}, []),
        ({"readonly_private_ip": "127.0.0.1"}, []),
        ({"proxy_ip": "127.0.0.1"}, []),
        ({"type": "Cluster", "datastore_type": "gaussdb-mysql"}, every),
    ]
    for query, expected in cases:
        where, offset, limit = parse_instance_query(query)
        assert await listed(store, where, offset, limit) == (expected, len(expected)), query


async def test_instance_pages_count_every_match(store: Store) -> None:
    await seed_instances(store)
    where = InstanceFilter(name=TextMatch("o", contains=True))  # orders-db, orders-copy, broken, odd-tags
    assert await listed(store, where, 0, 2) == (["a1in07", "b2in07"], 4)
    assert await listed(store, where, 2, 2) == (["d4in07", "g7in07"], 4)
    assert await listed(store, where, 4, 2) == ([], 4)


async def test_another_projects_instances_never_match(store: Store) -> None:
    await seed_instances(store)
    instances, total = await store.list_instances("p2", InstanceFilter(name=TextMatch("orders-db")), 0, 100)
    assert [i.id for i in instances] == ["f6in07"] and total == 1
    assert await store.list_instances("p3", InstanceFilter(), 0, 100) == ([], 0)


async def seed_backups(store: Store) -> None:
    await seed_instances(store)
    for backup_id, instance_id, name, minute, project in (
        ("k1br07", "a1in07", "nightly-1", 10, "p1"),
        ("k2br07", "a1in07", "nightly-2", 20, "p1"),
        ("k3br07", "b2in07", "nightly-1", 30, "p1"),
        ("k4br07", "e5in07", "final", 40, "p1"),  # of a deleted instance: kept
        ("k5br07", "f6in07", "nightly-1", 50, "p2"),
    ):
        begin = ON_THE_MINUTE + timedelta(minutes=minute)
        await store.save_backup(
            Backup(
                backup_id, project, instance_id, name, "COMPLETED", begin, end=begin + timedelta(minutes=1)
            )
        )


async def backups(
    store: Store, where: BackupFilter, offset: int = 0, limit: int = 100
) -> tuple[list[str], int]:
    found, total = await store.list_backups("p1", where, offset, limit)
    return [b.id for b in found], total


async def test_backup_filters_match_as_the_sdk_documents(store: Store) -> None:
    await seed_backups(store)
    every = ["k4br07", "k3br07", "k2br07", "k1br07"]  # newest first
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({}, every),
        ({"instance_id": "a1in07"}, ["k2br07", "k1br07"]),
        ({"backup_id": "k3br07"}, ["k3br07"]),
        ({"backup_id": "k5br07"}, []),  # another project's
        ({"name": "nightly-1"}, ["k3br07", "k1br07"]),
        ({"name": "nightly"}, []),
        ({"instance_name": "orders-db"}, ["k2br07", "k1br07"]),  # not p2's orders-db
        ({"instance_name": "orders-old"}, ["k4br07"]),
        ({"instance_name": "orders-db", "name": "nightly-1"}, ["k1br07"]),
        ({"backup_type": "manual"}, every),
        ({"backup_type": "auto"}, []),
        ({"begin_time": "2026-11-01T12:20:00+0000"}, ["k4br07", "k3br07", "k2br07"]),  # inclusive
        ({"end_time": "2026-11-01T12:20:00+0000"}, ["k2br07", "k1br07"]),
        ({"begin_time": "2026-11-01T13:25:00+0100", "end_time": "2026-11-01T12:35:00+0000"}, ["k3br07"]),
    ]
    for query, expected in cases:
        where, offset, limit = parse_backup_query(query)
        assert await backups(store, where, offset, limit) == (expected, len(expected)), query
    assert await backups(store, BackupFilter(), 1, 2) == (["k3br07", "k2br07"], 4)


async def test_a_project_has_jobs_on_an_instance_only_while_they_are_visible(store: Store) -> None:
    job, _ = await store.create_job(NewJob("p1", "X", instance=Instance("prod-1", "db")), ON_THE_MINUTE)
    assert await store.instance_has_jobs("p1", "prod-1", ON_THE_MINUTE - timedelta(days=1))
    assert not await store.instance_has_jobs("p2", "prod-1", ON_THE_MINUTE - timedelta(days=1))
    assert not await store.instance_has_jobs("p1", "prod-2", ON_THE_MINUTE - timedelta(days=1))
    await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), ON_THE_MINUTE)
    assert await store.instance_has_jobs("p1", "prod-1", ON_THE_MINUTE)
    assert not await store.instance_has_jobs(
        "p1", "prod-1", ON_THE_MINUTE + timedelta(seconds=1)
    )  # past retention
