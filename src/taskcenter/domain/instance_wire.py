"""The JSON shapes of the TaurusDB instance APIs, as the official SDK's models name them."""

from __future__ import annotations

from typing import Any

from taskcenter.domain.instance import (
    DATASTORE,
    ENGINE_VERSION,
    FLAVORS,
    Backup,
    DbInstance,
    ShownStatus,
    V3Status,
)
from taskcenter.domain.wire import format_time


def _datastore() -> dict[str, str]:
    return {"type": DATASTORE, "version": ENGINE_VERSION["version"],
            "kernel_version": ENGINE_VERSION["kernel_version"]}  # fmt: skip


def created_instance(instance: DbInstance) -> dict[str, Any]:
    """MysqlInstanceResponse: the instance in the answer to a create."""
    r = instance.request
    return {
        "id": instance.id,
        "name": instance.name,
        "status": V3Status.BUILD,
        "datastore": _datastore(),
        "mode": r.get("mode", "Cluster"),
        "configuration_id": r.get("configuration_id", ""),
        "port": str(instance.port or ""),
        "backup_strategy": r.get("backup_strategy", {}),
        "enterprise_project_id": r.get("enterprise_project_id", ""),
        "region": r.get("region", ""),
        "availability_zone_mode": r.get("availability_zone_mode", "single"),
        "master_availability_zone": "local",
        "vpc_id": r.get("vpc_id", ""),
        "security_group_id": r.get("security_group_id", ""),
        "subnet_id": r.get("subnet_id", ""),
        "flavor_ref": instance.flavor_ref,
        "charge_info": r.get("charge_info", {"charge_mode": "postPaid"}),
        "volume": {"size": 10},
    }


def listed_instance(instance: DbInstance, status: ShownStatus, unify: bool = False) -> dict[str, Any]:
    """MysqlInstanceListInfo; with ``unify``, MysqlInstanceListInfoUnifyStatus (v3.1)."""
    r, flavor = instance.request, instance.flavor
    up = status.up
    return {
        "id": instance.id,
        "name": instance.name,
        "status": status.unify if unify else status.v3,
        "private_ips": ["127.0.0.1"] if up else [],
        "proxy_ips": [],
        "readonly_private_ips": [],
        "public_ips": [],
        "port": str(instance.port or ""),
        "type": "Cluster",
        "region": r.get("region", ""),
        "datastore": _datastore(),
        "created": format_time(instance.created) if up else "",
        "updated": format_time(instance.updated) if up else "",
        "db_user_name": "root",
        "vpc_id": r.get("vpc_id", ""),
        "subnet_id": r.get("subnet_id", ""),
        "security_group_id": r.get("security_group_id", ""),
        "flavor_ref": instance.flavor_ref,
        "flavor_info": {"vcpus": str(flavor.vcpus), "ram": str(flavor.ram_gb)},
        "volume": {"type": "DL6", "size": "10"},
        "backup_strategy": r.get("backup_strategy", {}),
        "enterprise_project_id": r.get("enterprise_project_id", ""),
        "time_zone": r.get("time_zone", "UTC"),
        "charge_info": r.get("charge_info", {"charge_mode": "postPaid"}),
        "tags": r.get("tags", []),
    }


def instance_detail(instance: DbInstance, status: ShownStatus, unify: bool = False) -> dict[str, Any]:
    """MysqlInstanceInfoDetail, with the one node a local instance has; with ``unify``,
    MysqlInstanceInfoDetailUnifyStatus (v3.1)."""
    r, flavor = instance.request, instance.flavor
    up = status.up
    return {
        "id": instance.id,
        "name": instance.name,
        "project_id": instance.project_id,
        "status": status.unify if unify else status.v3,
        "port": str(instance.port or ""),
        "alias": "",
        "type": "Cluster",
        "charge_info": {
            "charge_mode": r.get("charge_info", {}).get("charge_mode", "postPaid"),
            "order_id": "",
        },
        "node_count": 1,
        "datastore": _datastore(),
        "backup_used_space": 0.0,
        "created": format_time(instance.created) if up else "",
        "updated": format_time(instance.updated) if up else "",
        "private_write_ips": ["127.0.0.1"] if up else [],
        "private_dns_names": [],
        "public_ips": "",
        "db_user_name": "root",
        "vpc_id": r.get("vpc_id", ""),
        "subnet_id": r.get("subnet_id", ""),
        "security_group_id": r.get("security_group_id", ""),
        "configuration_id": r.get("configuration_id", ""),
        "backup_strategy": r.get("backup_strategy", {}),
        "nodes": [
            {
                "id": f"{instance.id}no01",
                "name": f"{instance.name}_node01",
                "type": "master",
                "status": status.node,
                "port": instance.port or 0,
                "private_read_ips": ["127.0.0.1"] if up else [],
                "volume": {"type": "DL6", "used": "0", "size": 10},
                "az_code": "local",
                "region_code": r.get("region", ""),
                "created": format_time(instance.created) if up else "",
                "updated": format_time(instance.updated) if up else "",
                "flavor_id": flavor.id,
                "flavor_ref": flavor.spec_code,
                "max_connections": str(flavor.max_connections),
                "vcpus": str(flavor.vcpus),
                "ram": str(flavor.ram_gb),
                "need_restart": False,
                "priority": 1,
            }
        ],
        "enterprise_project_id": r.get("enterprise_project_id", ""),
        "time_zone": r.get("time_zone", "UTC"),
        "az_mode": r.get("availability_zone_mode", "single"),
        "master_az_code": "local",
        "maintenance_window": "18:00-22:00",
        "tags": r.get("tags", []),
        "proxies": [],
    }


def flavors(spec_code: str | None) -> list[dict[str, Any]]:
    return [
        {"vcpus": str(f.vcpus), "ram": str(f.ram_gb), "type": "x86", "id": f.id, "spec_code": f.spec_code,
         "version_name": ENGINE_VERSION["name"], "instance_mode": "Cluster", "az_status": {"local": "normal"}}
        for f in FLAVORS.values()
        if spec_code in (None, "", f.spec_code)
    ]  # fmt: skip


def created_backup(backup: Backup) -> dict[str, Any]:
    """Backup: the answer to create_gauss_my_sql_backup."""
    return {
        "id": backup.id,
        "name": backup.name,
        "description": backup.description,
        "begin_time": format_time(backup.begin),
        "status": backup.status,
        "type": "manual",
        "instance_id": backup.instance_id,
    }


def listed_backup(backup: Backup, instance_name: str) -> dict[str, Any]:
    """Backups: one row of show_gauss_my_sql_backup_list (size in MB)."""
    minutes = int((backup.end - backup.begin).total_seconds() // 60) if backup.end else 0
    return {
        "id": backup.id,
        "name": backup.name,
        "begin_time": format_time(backup.begin),
        "end_time": format_time(backup.end),
        "status": backup.status,
        "take_up_time": minutes,
        "type": "manual",
        "size": round(backup.size_bytes / 1024 / 1024, 3),
        "datastore": {"type": DATASTORE, "version": ENGINE_VERSION["name"]},
        "instance_id": backup.instance_id,
        "instance_name": instance_name,
        "description": backup.description,
        "backup_mode": "completed",
    }
