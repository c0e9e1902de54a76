"""The instance APIs' answers, whole, as the official SDK's models name each field.

Written against the mutants that scripts/mutation found in domain/instance_wire.py and in the
statuses of domain/instance.py, which no test in tests/domain reached: the API and acceptance
tests read these answers through a server, but a field renamed, emptied or dropped here changes
what every client parses. Each answer is compared whole, for an instance created with every
optional field and for one with none, up and not up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from taskcenter.domain.instance import Backup, DbInstance, shown_status
from taskcenter.domain.instance_requests import parse_create
from taskcenter.domain.instance_wire import (
    created_backup,
    created_instance,
    flavors,
    instance_detail,
    listed_backup,
    listed_instance,
)
from tests.domain.test_instance_requests import minimal

REQUEST = parse_create(
    minimal(
        flavor_ref="gaussdb.mysql.large.x86.4",
        region="cn-north-4",
        mode="StandSingle",
        availability_zone_mode="multi",
        master_availability_zone="az1",
        security_group_id="sg-1",
        configuration_id="cfg-1",
        enterprise_project_id="ep-1",
        time_zone="UTC+08:00",
        backup_strategy={"start_time": "08:00-09:00", "keep_days": "7"},
        tags=[{"key": "env", "value": "prod"}],
    )
).recorded()
FULL = DbInstance(
    "0123456789abcdef0123456789abcdefin07",
    "p1",
    "orders-db",
    "normal",
    "gaussdb.mysql.large.x86.4",
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 3, 4, 5, 6, tzinfo=UTC),
    3307,
    REQUEST,
)
BARE = DbInstance(
    "fedcba9876543210fedcba9876543210in07",
    "p2",
    "bare-db",
    "creating",
    "gaussdb.mysql.small.x86.2",
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
)
DONE = Backup(
    "b1",
    "p1",
    FULL.id,
    "nightly",
    "COMPLETED",
    datetime(2026, 1, 4, 0, 0, 0, tzinfo=UTC),
    "before the upgrade",
    5 * 1024 * 1024 + 123456,
    datetime(2026, 1, 4, 0, 2, 59, tzinfo=UTC),
)
BUILDING = Backup("b2", "p1", FULL.id, "manual-1", "BUILDING", datetime(2026, 1, 4, 0, 0, 0, tzinfo=UTC))


def flavor(vcpus: str, ram: str, flavor_id: str, spec_code: str) -> dict[str, Any]:
    return {
        "vcpus": vcpus,
        "ram": ram,
        "type": "x86",
        "id": flavor_id,
        "spec_code": spec_code,
        "version_name": "8.0",
        "instance_mode": "Cluster",
        "az_status": {"local": "normal"},
    }


SMALL = flavor("1", "2", "d6a41ede470ce403430d8c31f3a4685d", "gaussdb.mysql.small.x86.2")
LARGE = flavor("2", "8", "cc62d25951842128c62c4ff46ed6b593", "gaussdb.mysql.large.x86.4")
XLARGE = flavor("4", "16", "9e8f32e8a4fc81804406351c3a7be9bd", "gaussdb.mysql.xlarge.x86.4")
XXLARGE = flavor("8", "32", "0be517cc058873f5ffdbb107f5664f5e", "gaussdb.mysql.2xlarge.x86.4")

CREATED_FULL: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdefin07",
    "name": "orders-db",
    "status": "BUILD",
    "datastore": {"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
    "mode": "StandSingle",
    "configuration_id": "cfg-1",
    "port": "3307",
    "backup_strategy": {"start_time": "08:00-09:00", "keep_days": "7"},
    "enterprise_project_id": "ep-1",
    "region": "cn-north-4",
    "availability_zone_mode": "multi",
    "master_availability_zone": "local",
    "vpc_id": "vpc-local",
    "security_group_id": "sg-1",
    "subnet_id": "subnet-local",
    "flavor_ref": "gaussdb.mysql.large.x86.4",
    "charge_info": {"charge_mode": "postPaid"},
    "volume": {"size": 10},
}
CREATED_BARE: dict[str, Any] = {
    "id": "fedcba9876543210fedcba9876543210in07",
    "name": "bare-db",
    "status": "BUILD",
    "datastore": {"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
    "mode": "Cluster",
    "configuration_id": "",
    "port": "",
    "backup_strategy": {},
    "enterprise_project_id": "",
    "region": "",
    "availability_zone_mode": "single",
    "master_availability_zone": "local",
    "vpc_id": "",
    "security_group_id": "",
    "subnet_id": "",
    "flavor_ref": "gaussdb.mysql.small.x86.2",
    "charge_info": {"charge_mode": "postPaid"},
    "volume": {"size": 10},
}
LISTED_FULL: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdefin07",
    "name": "orders-db",
    "status": "ACTIVE",
    "private_ips": ["127.0.0.1"],
    "proxy_ips": [],
    "readonly_private_ips": [],
    "public_ips": [],
    "port": "3307",
    "type": "Cluster",
    "region": "cn-north-4",
    "datastore": {"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
    "created": "2026-01-02T03:04:05+0000",
    "updated": "2026-01-03T04:05:06+0000",
    "db_user_name": "root",
    "vpc_id": "vpc-local",
    "subnet_id": "subnet-local",
    "security_group_id": "sg-1",
    "flavor_ref": "gaussdb.mysql.large.x86.4",
    "flavor_info": {"vcpus": "2", "ram": "8"},
    "volume": {"type": "DL6", "size": "10"},
    "backup_strategy": {"start_time": "08:00-09:00", "keep_days": "7"},
    "enterprise_project_id": "ep-1",
    "time_zone": "UTC+08:00",
    "charge_info": {"charge_mode": "postPaid"},
    "tags": [{"key": "env", "value": "prod"}],
}
LISTED_FULL_UNIFY_RESIZING: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdefin07",
    "name": "orders-db",
    "status": "normal",
    "private_ips": ["127.0.0.1"],
    "proxy_ips": [],
    "readonly_private_ips": [],
    "public_ips": [],
    "port": "3307",
    "type": "Cluster",
    "region": "cn-north-4",
    "datastore": {"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
    "created": "2026-01-02T03:04:05+0000",
    "updated": "2026-01-03T04:05:06+0000",
    "db_user_name": "root",
    "vpc_id": "vpc-local",
    "subnet_id": "subnet-local",
    "security_group_id": "sg-1",
    "flavor_ref": "gaussdb.mysql.large.x86.4",
    "flavor_info": {"vcpus": "2", "ram": "8"},
    "volume": {"type": "DL6", "size": "10"},
    "backup_strategy": {"start_time": "08:00-09:00", "keep_days": "7"},
    "enterprise_project_id": "ep-1",
    "time_zone": "UTC+08:00",
    "charge_info": {"charge_mode": "postPaid"},
    "tags": [{"key": "env", "value": "prod"}],
}
LISTED_BARE: dict[str, Any] = {
    "id": "fedcba9876543210fedcba9876543210in07",
    "name": "bare-db",
    "status": "BUILD",
    "private_ips": [],
    "proxy_ips": [],
    "readonly_private_ips": [],
    "public_ips": [],
    "port": "",
    "type": "Cluster",
    "region": "",
    "datastore": {"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
    "created": "",
    "updated": "",
    "db_user_name": "root",
    "vpc_id": "",
    "subnet_id": "",
    "security_group_id": "",
    "flavor_ref": "gaussdb.mysql.small.x86.2",
    "flavor_info": {"vcpus": "1", "ram": "2"},
    "volume": {"type": "DL6", "size": "10"},
    "backup_strategy": {},
    "enterprise_project_id": "",
    "time_zone": "UTC",
    "charge_info": {"charge_mode": "postPaid"},
    "tags": [],
}
DETAIL_FULL: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdefin07",
    "name": "orders-db",
    "project_id": "p1",
    "status": "FAILED",
    "port": "3307",
    "alias": "",
    "type": "Cluster",
    "charge_info": {"charge_mode": "postPaid", "order_id": ""},
    "node_count": 1,
    "datastore": {"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
    "backup_used_space": 0.0,
    "created": "2026-01-02T03:04:05+0000",
    "updated": "2026-01-03T04:05:06+0000",
    "private_write_ips": ["127.0.0.1"],
    "private_dns_names": [],
    "public_ips": "",
    "db_user_name": "root",
    "vpc_id": "vpc-local",
    "subnet_id": "subnet-local",
    "security_group_id": "sg-1",
    "configuration_id": "cfg-1",
    "backup_strategy": {"start_time": "08:00-09:00", "keep_days": "7"},
    "nodes": [
        {
            "id": "0123456789abcdef0123456789abcdefin07no01",
            "name": "orders-db_node01",
            "type": "master",
            "status": "ABNORMAL",
            "port": 3307,
            "private_read_ips": ["127.0.0.1"],
            "volume": {"type": "DL6", "used": "0", "size": 10},
            "az_code": "local",
            "region_code": "cn-north-4",
            "created": "2026-01-02T03:04:05+0000",
            "updated": "2026-01-03T04:05:06+0000",
            "flavor_id": "cc62d25951842128c62c4ff46ed6b593",
            "flavor_ref": "gaussdb.mysql.large.x86.4",
            "max_connections": "200",
            "vcpus": "2",
            "ram": "8",
            "need_restart": False,
            "priority": 1,
        }
    ],
    "enterprise_project_id": "ep-1",
    "time_zone": "UTC+08:00",
    "az_mode": "multi",
    "master_az_code": "local",
    "maintenance_window": "18:00-22:00",
    "tags": [{"key": "env", "value": "prod"}],
    "proxies": [],
}
DETAIL_BARE_UNIFY: dict[str, Any] = {
    "id": "fedcba9876543210fedcba9876543210in07",
    "name": "bare-db",
    "project_id": "p2",
    "status": "createfail",
    "port": "",
    "alias": "",
    "type": "Cluster",
    "charge_info": {"charge_mode": "postPaid", "order_id": ""},
    "node_count": 1,
    "datastore": {"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
    "backup_used_space": 0.0,
    "created": "",
    "updated": "",
    "private_write_ips": [],
    "private_dns_names": [],
    "public_ips": "",
    "db_user_name": "root",
    "vpc_id": "",
    "subnet_id": "",
    "security_group_id": "",
    "configuration_id": "",
    "backup_strategy": {},
    "nodes": [
        {
            "id": "fedcba9876543210fedcba9876543210in07no01",
            "name": "bare-db_node01",
            "type": "master",
            "status": "FAILED",
            "port": 0,
            "private_read_ips": [],
            "volume": {"type": "DL6", "used": "0", "size": 10},
            "az_code": "local",
            "region_code": "",
            "created": "",
            "updated": "",
            "flavor_id": "d6a41ede470ce403430d8c31f3a4685d",
            "flavor_ref": "gaussdb.mysql.small.x86.2",
            "max_connections": "100",
            "vcpus": "1",
            "ram": "2",
            "need_restart": False,
            "priority": 1,
        }
    ],
    "enterprise_project_id": "",
    "time_zone": "UTC",
    "az_mode": "single",
    "master_az_code": "local",
    "maintenance_window": "18:00-22:00",
    "tags": [],
    "proxies": [],
}
CREATED_BACKUP: dict[str, Any] = {
    "id": "b2",
    "name": "manual-1",
    "description": "",
    "begin_time": "2026-01-04T00:00:00+0000",
    "status": "BUILDING",
    "type": "manual",
    "instance_id": "0123456789abcdef0123456789abcdefin07",
}
LISTED_BACKUP: dict[str, Any] = {
    "id": "b1",
    "name": "nightly",
    "begin_time": "2026-01-04T00:00:00+0000",
    "end_time": "2026-01-04T00:02:59+0000",
    "status": "COMPLETED",
    "take_up_time": 2,
    "type": "manual",
    "size": 5.118,
    "datastore": {"type": "gaussdb-mysql", "version": "8.0"},
    "instance_id": "0123456789abcdef0123456789abcdefin07",
    "instance_name": "orders-db",
    "description": "before the upgrade",
    "backup_mode": "completed",
}
LISTED_RUNNING: dict[str, Any] = {
    "id": "b2",
    "name": "manual-1",
    "begin_time": "2026-01-04T00:00:00+0000",
    "end_time": "",
    "status": "BUILDING",
    "take_up_time": 0,
    "type": "manual",
    "size": 0.0,
    "datastore": {"type": "gaussdb-mysql", "version": "8.0"},
    "instance_id": "0123456789abcdef0123456789abcdefin07",
    "instance_name": "orders-db",
    "description": "",
    "backup_mode": "completed",
}


def test_a_created_instance_is_answered_with_every_field() -> None:
    assert created_instance(FULL) == CREATED_FULL
    assert created_instance(BARE) == CREATED_BARE


def test_a_listed_instance_is_answered_with_every_field_in_each_vocabulary() -> None:
    assert listed_instance(FULL, shown_status("normal", None)) == LISTED_FULL
    resizing = shown_status("normal", "ResizeGaussDBforMySQLFlavor")
    assert listed_instance(FULL, resizing, unify=True) == LISTED_FULL_UNIFY_RESIZING
    assert listed_instance(FULL, resizing) == {**LISTED_FULL, "status": "MODIFYING"}
    assert listed_instance(BARE, shown_status("creating", "CreateGaussDBforMySQLInstance")) == LISTED_BARE


def test_an_instance_detail_is_answered_with_its_one_node() -> None:
    assert instance_detail(FULL, shown_status("abnormal", None)) == DETAIL_FULL
    assert instance_detail(BARE, shown_status("createfail", None), unify=True) == DETAIL_BARE_UNIFY


def test_flavors_are_all_listed_or_the_one_asked_for() -> None:
    assert flavors(None) == flavors("") == [SMALL, LARGE, XLARGE, XXLARGE]
    assert flavors("gaussdb.mysql.small.x86.2") == [SMALL]
    assert flavors("gaussdb.mysql.2xlarge.x86.4") == [XXLARGE]
    assert flavors("gaussdb.mysql.huge") == []


def test_backups_are_answered_with_every_field() -> None:
    assert created_backup(BUILDING) == CREATED_BACKUP
    assert listed_backup(DONE, "orders-db") == LISTED_BACKUP
    assert listed_backup(BUILDING, "orders-db") == LISTED_RUNNING


# (stored status, job under way, v3 status, node status, whether it has a server)
STATUSES = [
    ("creating", None, "BUILD", "BUILD", False),
    ("creating", "CreateGaussDBforMySQLInstance", "BUILD", "BUILD", False),
    ("creating", "RestoreGaussDBforMySQLNewInstance", "BUILD", "BUILD", False),
    ("creating", "RebootGaussDBforMySQLInstance", "BUILD", "BUILD", False),
    ("creating", "ResizeGaussDBforMySQLFlavor", "BUILD", "BUILD", False),
    ("creating", "CreateGaussDBforMySQLBackup", "BUILD", "BUILD", False),
    ("creating", "DeleteGaussDBforMySQLInstance", "BUILD", "BUILD", False),
    ("normal", None, "ACTIVE", "ACTIVE", True),
    ("normal", "CreateGaussDBforMySQLInstance", "BUILD", "BUILD", True),
    ("normal", "RestoreGaussDBforMySQLNewInstance", "BUILD", "BUILD", True),
    ("normal", "RebootGaussDBforMySQLInstance", "REBOOTING", "REBOOTING", True),
    ("normal", "ResizeGaussDBforMySQLFlavor", "MODIFYING", "MODIFYING", True),
    ("normal", "CreateGaussDBforMySQLBackup", "BACKING UP", "BACKING UP", True),
    ("normal", "DeleteGaussDBforMySQLInstance", "ACTIVE", "ACTIVE", True),
    ("abnormal", None, "FAILED", "ABNORMAL", True),
    ("abnormal", "CreateGaussDBforMySQLInstance", "BUILD", "BUILD", True),
    ("abnormal", "RestoreGaussDBforMySQLNewInstance", "BUILD", "BUILD", True),
    ("abnormal", "RebootGaussDBforMySQLInstance", "REBOOTING", "REBOOTING", True),
    ("abnormal", "ResizeGaussDBforMySQLFlavor", "MODIFYING", "MODIFYING", True),
    ("abnormal", "CreateGaussDBforMySQLBackup", "BACKING UP", "BACKING UP", True),
    ("abnormal", "DeleteGaussDBforMySQLInstance", "FAILED", "ABNORMAL", True),
    ("createfail", None, "FAILED", "FAILED", False),
    ("createfail", "CreateGaussDBforMySQLInstance", "FAILED", "FAILED", False),
    ("createfail", "RestoreGaussDBforMySQLNewInstance", "FAILED", "FAILED", False),
    ("createfail", "RebootGaussDBforMySQLInstance", "FAILED", "FAILED", False),
    ("createfail", "ResizeGaussDBforMySQLFlavor", "FAILED", "FAILED", False),
    ("createfail", "CreateGaussDBforMySQLBackup", "FAILED", "FAILED", False),
    ("createfail", "DeleteGaussDBforMySQLInstance", "FAILED", "FAILED", False),
    ("deleted", None, "FAILED", "FAILED", True),
    ("deleted", "CreateGaussDBforMySQLInstance", "FAILED", "FAILED", True),
    ("deleted", "RestoreGaussDBforMySQLNewInstance", "FAILED", "FAILED", True),
    ("deleted", "RebootGaussDBforMySQLInstance", "FAILED", "FAILED", True),
    ("deleted", "ResizeGaussDBforMySQLFlavor", "FAILED", "FAILED", True),
    ("deleted", "CreateGaussDBforMySQLBackup", "FAILED", "FAILED", True),
    ("deleted", "DeleteGaussDBforMySQLInstance", "FAILED", "FAILED", True),
]


@pytest.mark.parametrize(("live", "operation", "v3", "node", "up"), STATUSES)
def test_each_status_shows_in_each_vocabulary(
    live: str, operation: str | None, v3: str, node: str, up: bool
) -> None:
    shown = shown_status(live, operation)
    assert (shown.unify, shown.v3, shown.node, shown.up) == (live, v3, node, up)
