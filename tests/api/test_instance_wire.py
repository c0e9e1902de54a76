"""The instance APIs' answers, on both stores, without MariaDB: instance records are written to
the store directly and their operations are producer jobs, so each status and rule is reached
exactly (tests/acceptance drives the same through real servers)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskcenter.domain.instance import Backup, DbInstance, InstanceStatus
from taskcenter.storage.factory import open_store
from tests.api.conftest import Api, run

FLAVOR = "gaussdb.mysql.small.x86.2"
CREATE = "CreateGaussDBforMySQLInstance"
REBOOT = "RebootGaussDBforMySQLInstance"


def seed(api: Api, tmp_path: Path, *instances: DbInstance, backups: tuple[Backup, ...] = ()) -> None:
    """Write instance and backup records through a second store on the server's database."""

    async def write() -> None:
        store = await open_store(api.database_url, tmp_path)
        try:
            for instance in instances:
                await store.create_instance(instance)
            for backup in backups:
                await store.save_backup(backup)
        finally:
            await store.close()

    run(write())


def record(api: Api, instance_id: str, name: str, status: str, who: str = "a", **request: Any) -> DbInstance:
    now = api.clock.now
    return DbInstance(instance_id, api.creds[who].project_id, name, status, FLAVOR, now, now, 3306, request)


def operation(api: Api, instance: DbInstance, name: str, **fields: Any) -> dict[str, Any]:
    """A job on the instance, as a running operation's (a producer job: no worker needed)."""
    return api.create_job(name=name, instance={"id": instance.id, "name": instance.name}, **fields)


def base(api: Api, who: str = "a", version: str = "v3") -> str:
    return f"/{version}/{api.creds[who].project_id}"


def show(api: Api, instance_id: str, version: str = "v3") -> httpx.Response:
    return api.get(f"{base(api, version=version)}/instances/{instance_id}")


def statuses(api: Api, instance_id: str) -> tuple[str, str, str, str]:
    """(v3 status, v3 node status, v3 list status, v3.1 status) of the instance."""
    detail = show(api, instance_id).json()["instance"]
    listed = {i["id"]: i["status"] for i in api.get(f"{base(api)}/instances").json()["instances"]}
    unify = show(api, instance_id, "v3.1").json()["instance"]["status"]
    return detail["status"], detail["nodes"][0]["status"], listed[instance_id], unify


def test_v3_answers_speak_the_v3_vocabulary_and_v3_1_the_unify_one(api: Api, tmp_path: Path) -> None:
    building = record(api, "b1in07", "building", InstanceStatus.CREATING)
    ready = record(api, "r1in07", "ready-db", InstanceStatus.NORMAL)
    failed = record(api, "f1in07", "failed-db", InstanceStatus.CREATEFAIL)
    seed(api, tmp_path, building, ready, failed)
    create = operation(api, building, CREATE)
    # A create under way is BUILD from its first answer to its end, never "creating".
    assert statuses(api, building.id) == ("BUILD", "BUILD", "BUILD", "creating")
    assert statuses(api, ready.id) == ("ACTIVE", "ACTIVE", "ACTIVE", "normal")
    assert statuses(api, failed.id) == ("FAILED", "FAILED", "FAILED", "createfail")

    # A reboot waiting for its maintenance window leaves the instance ACTIVE; once under way it
    # is REBOOTING, and ACTIVE again when it ended.
    later = (api.clock.now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    delayed = operation(api, ready, REBOOT, status="Pending", start_time=later)
    assert statuses(api, ready.id) == ("ACTIVE", "ACTIVE", "ACTIVE", "normal")
    assert api.patch_job(delayed["id"], status="Running").status_code == 200
    assert statuses(api, ready.id) == ("REBOOTING", "REBOOTING", "REBOOTING", "normal")
    assert api.patch_job(delayed["id"], status="Completed").status_code == 200
    for name, shown in (
        ("ResizeGaussDBforMySQLFlavor", "MODIFYING"),
        ("CreateGaussDBforMySQLBackup", "BACKING UP"),
        ("CreateGaussDBforMySQLDatabase", "ACTIVE"),
        ("DeleteGaussDBforMySQLInstance", "ACTIVE"),  # the delete waiter's Pending states
    ):
        job = operation(api, ready, name)
        assert statuses(api, ready.id)[:3] == (shown, shown, shown), name
        assert api.patch_job(job["id"], status="Completed").status_code == 200
    assert api.patch_job(create["id"], status="Completed").status_code == 200


def test_a_deleted_instance_is_not_found_on_every_instance_route(api: Api, tmp_path: Path) -> None:
    gone = record(api, "d1in07", "gone-db", InstanceStatus.DELETED)
    seed(api, tmp_path, gone)
    job = operation(api, gone, "DeleteGaussDBforMySQLInstance")
    assert api.patch_job(job["id"], status="Completed").status_code == 200
    path = f"{base(api)}/instances/{gone.id}"
    for response in (
        show(api, gone.id),
        show(api, gone.id, "v3.1"),
        api.get(f"{path}/task-center-detail", params={"job_id": job["id"]}),
        api.signed("DELETE", path, who="a"),
        api.signed("POST", f"{path}/restart", who="a", json={}),
        api.signed("POST", f"{path}/action", who="a", json={"resize_flavor": {"spec_code": FLAVOR}}),
        api.signed("POST", f"{path}/password", who="a", json={"password": "Tc-Passw0rd!"}),
        api.signed("POST", f"{path}/databases", who="a",
                   json={"databases": [{"name": "d1", "character_set": "utf8mb4"}]}),
        api.signed("POST", f"{path}/db-users", who="a",
                   json={"users": [{"name": "u1", "password": "Tc-Passw0rd!"}]}),
        api.signed("POST", f"{base(api)}/backups/create", who="a",
                   json={"instance_id": gone.id, "name": "last-one"}),
    ):  # fmt: skip
        assert (response.status_code, response.json()["error_code"]) == (404, "DBS.200045"), response.text
    assert api.get(f"{base(api)}/instances").json() == {"instances": [], "total_count": 0}
    # The jobs keep saying what became of it.
    listed = api.get(f"{base(api)}/immediate-jobs").json()["jobs"]
    assert [j["instance_status"] for j in listed] == ["deleted"]


def test_any_second_operation_is_busy_before_the_instance_is_ready(api: Api, tmp_path: Path) -> None:
    """409 DBS.200019, what clients retry on, even while the create is still running."""
    building = record(api, "b2in07", "building", InstanceStatus.CREATING)
    seed(api, tmp_path, building)
    operation(api, building, CREATE)
    path = f"{base(api)}/instances/{building.id}"
    for response in (
        api.signed("DELETE", path, who="a"),
        api.signed("POST", f"{path}/restart", who="a", json={}),
        api.signed("POST", f"{path}/action", who="a", json={"resize_flavor": {"spec_code": FLAVOR}}),
        api.signed("POST", f"{path}/password", who="a", json={"password": "Tc-Passw0rd!"}),
        api.signed("POST", f"{path}/databases", who="a",
                   json={"databases": [{"name": "d1", "character_set": "utf8mb4"}]}),
        api.signed("POST", f"{path}/db-users", who="a",
                   json={"users": [{"name": "u1", "password": "Tc-Passw0rd!"}]}),
        api.signed("POST", f"{base(api)}/backups/create", who="a",
                   json={"instance_id": building.id, "name": "too-early"}),
    ):  # fmt: skip
        assert (response.status_code, response.json()["error_code"]) == (409, "DBS.200019"), response.text


def test_an_instance_whose_create_failed_cannot_be_operated_on(api: Api, tmp_path: Path) -> None:
    failed = record(api, "f2in07", "failed-db", InstanceStatus.CREATEFAIL)
    seed(api, tmp_path, failed)
    path = f"{base(api)}/instances/{failed.id}/restart"
    response = api.signed("POST", path, who="a", json={})
    assert (response.status_code, response.json()["error_code"]) == (400, "DBS.200001")
    assert "instance_id" in response.json()["error_msg"]
    chinese = api.http.post(
        path, content=b"{}", headers={"X-Auth-Token": api.token("a"), "X-Language": "zh-cn"}
    )
    assert "只有创建成功的实例" in chinese.json()["error_msg"]


def test_instance_list_filters_and_their_errors(api: Api, tmp_path: Path) -> None:
    seed(
        api, tmp_path,
        record(api, "o1in07", "orders-db", InstanceStatus.NORMAL, vpc_id="vpc-1",
               tags=[{"key": "env", "value": "prod"}]),
        record(api, "o2in07", "orders-copy", InstanceStatus.CREATING, vpc_id="vpc-2"),
        record(api, "x1in07", "orders-db", InstanceStatus.NORMAL, who="b"),
    )  # fmt: skip
    for version in ("v3", "v3.1"):
        path = f"{base(api, version=version)}/instances"
        for params, expected in (
            ({"name": "orders-db"}, ["o1in07"]),
            ({"name": "*orders"}, ["o1in07", "o2in07"]),
            ({"id": "o2in07"}, ["o2in07"]),
            ({"vpc_id": "vpc-2"}, ["o2in07"]),
            ({"tags": "env=prod"}, ["o1in07"]),
            ({"private_ip": "127.0.0.1"}, ["o1in07"]),
            ({"readonly_private_ip": "127.0.0.1"}, []),
            ({"name": "*orders", "limit": "1", "offset": "1"}, ["o2in07"]),
        ):
            answer = api.get(path, params=params).json()
            assert [i["id"] for i in answer["instances"]] == expected, (version, params)
        assert api.get(path, params={"name": "*orders", "limit": "1"}).json()["total_count"] == 2
        bad = api.get(
            path,
            params={"name": "*", "type": "Ha", "datastore_type": "mysql", "private_ip": "local",
                    "tags": "env", "limit": "101"},
        )  # fmt: skip
        assert bad.status_code == 400 and bad.json()["error_code"] == "DBS.200001"
        for field in ("name:", "type:", "datastore_type:", "private_ip:", "tags:", "limit:"):
            assert field in bad.json()["error_msg"], (field, bad.json())


def test_backup_list_filters_and_their_errors(api: Api, tmp_path: Path) -> None:
    owner = record(api, "o3in07", "orders-db", InstanceStatus.NORMAL)
    now = api.clock.now
    seed(
        api, tmp_path, owner,
        backups=tuple(
            Backup(f"k{i}br07", owner.project_id, owner.id, name, "COMPLETED", now + timedelta(minutes=i))
            for i, name in enumerate(("nightly-1", "nightly-2", "weekly-1"))
        ),
    )  # fmt: skip
    path = f"{base(api)}/backups"

    def ids(**params: str) -> list[str]:
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["backups"]]

    assert ids() == ["k2br07", "k1br07", "k0br07"]
    assert ids(name="nightly-2") == ["k1br07"]
    assert ids(backup_id="k0br07") == ["k0br07"]
    assert ids(instance_name="orders-db", backup_type="manual") == ["k2br07", "k1br07", "k0br07"]
    assert ids(backup_type="auto") == []
    start = (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert ids(begin_time=start) == ["k2br07", "k1br07"]
    assert ids(end_time=start) == ["k1br07", "k0br07"]
    bad = api.get(
        path, params={"backup_type": "full", "begin_time": start, "end_time": start, "backup_id": "a b"}
    )
    assert bad.status_code == 400
    for field in ("backup_type:", "end_time:", "backup_id:"):
        assert field in bad.json()["error_msg"], (field, bad.json())


def test_scheduled_jobs_show_instance_status_and_filter_by_the_names_they_show(
    api: Api, tmp_path: Path
) -> None:
    ready = record(api, "r2in07", "ready-db", InstanceStatus.NORMAL)
    seed(api, tmp_path, ready)
    later = (api.clock.now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    job = operation(api, ready, REBOOT, status="Pending", start_time=later)
    other = api.create_job(name="TaskcenterNoop", status="Pending", start_time=later)
    path = f"{base(api)}/scheduled-jobs"
    listed = {s["job_id"]: s for s in api.get(path).json()["schedules"]}
    assert listed[job["id"]]["job_name"] == "REBOOT_INSTANCE"
    assert listed[job["id"]]["instance_status"] == "normal"
    assert listed[other["id"]]["instance_status"] == ""  # no instance
    for name in ("REBOOT_INSTANCE", REBOOT):
        found = api.get(path, params={"job_name": name}).json()
        assert [s["job_id"] for s in found["schedules"]] == [job["id"]] and found["total_count"] == 1, name
    assert api.get(path, params={"job_name": "RESIZE_FLAVOR"}).json()["total_count"] == 0


def test_an_unknown_remaining_time_is_left_out_not_an_empty_string(api: Api) -> None:
    job = api.create_job(instance={"id": "inst-9", "name": "db-9"})
    api.patch_job(job["id"], sub_tasks=[{"name": "wait", "percent": 0, "status": "Pending"}])
    path = f"{base(api)}/instances/inst-9/task-center-detail"
    sub_task = api.get(path, params={"job_id": job["id"]}).json()["sub_task_list"][0]
    assert sub_task == {"sub_task_name": "wait", "percent": "0", "status": "Pending"}


@pytest.mark.parametrize("instance_id", ["nosuch", "x" * 129, "a%00b"])
def test_task_center_detail_of_an_unknown_instance(api: Api, instance_id: str) -> None:
    job = api.create_job(instance={"id": "inst-10", "name": "db-10"})
    response = api.get(
        f"{base(api)}/instances/{instance_id}/task-center-detail", params={"job_id": job["id"]}
    )
    if instance_id == "nosuch":
        assert (response.status_code, response.json()["error_code"]) == (404, "DBS.200045")
    else:  # too long, or holding NUL: refused at the door on both stores, naming the field
        assert response.status_code == 400 and "instance_id" in response.json()["error_msg"]
