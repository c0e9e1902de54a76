"""The instance and backup lists' filters, applied in SQL: one contract on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from taskcenter.domain.instance import Backup, DbInstance, InstanceStatus
from taskcenter.domain.instance_queries import (
    BackupFilter,
    InstanceFilter,
    TextMatch,
    parse_backup_query,
    parse_instance_query,
)
from taskcenter.domain.job import Instance, JobPatch, NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.storage.base import Store

T0 = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
FLAVOR = "gaussdb.mysql.small.x86.2"


def instance(
    instance_id: str, name: str, minute: int, project: str = "p1", status: str = InstanceStatus.NORMAL,
    **request: Any,
) -> DbInstance:  # fmt: skip
    at = T0 + timedelta(minutes=minute)
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
        begin = T0 + timedelta(minutes=minute)
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
    job, _ = await store.create_job(NewJob("p1", "X", instance=Instance("prod-1", "db")), T0)
    assert await store.instance_has_jobs("p1", "prod-1", T0 - timedelta(days=1))
    assert not await store.instance_has_jobs("p2", "prod-1", T0 - timedelta(days=1))
    assert not await store.instance_has_jobs("p1", "prod-2", T0 - timedelta(days=1))
    await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), T0)
    assert await store.instance_has_jobs("p1", "prod-1", T0)
    assert not await store.instance_has_jobs("p1", "prod-1", T0 + timedelta(seconds=1))  # past retention
