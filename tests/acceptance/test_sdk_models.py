"""Every SDK method taskcenter serves, held to the official SDK's models.

The official client drives a real `taskcenter serve` with real MariaDB servers through an
instance's life, as the Terraform provider does (waiting BUILD -> ACTIVE, then for the
instance's not-found after a delete). Each answer's raw JSON is checked against the model the
SDK reads it with: no field the model lacks, the model's types (recursively), and the values
the model's documentation lists.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkgaussdb.v3 import (
    CancelScheduleTask,
    CancelScheduleTaskRequest,
    ChangeGaussMySqlInstanceSpecificationRequest,
    CreateDatabaseUserList,
    CreateDatabaseUserRequest,
    CreateGaussMySqlBackupRequest,
    CreateGaussMySqlDatabase,
    CreateGaussMySqlDatabaseRequest,
    CreateGaussMySqlDatabaseRequestBody,
    CreateGaussMySqlDatabaseUserRequest,
    DeleteGaussMySqlInstanceRequest,
    DeleteTaskRecordRequest,
    GaussDBClient,
    ListGaussMySqlInstancesRequest,
    ListGaussMySqlInstancesUnifyStatusRequest,
    ListImmediateJobsRequest,
    ListScheduleJobsRequest,
    MysqlChangeSpecificationRequest,
    MysqlCreateBackupRequest,
    MysqlResetPasswordRequest,
    MysqlResizeFlavor,
    ResetGaussMySqlPasswordRequest,
    RestartGaussMySqlInstanceRequest,
    ShowGaussMySqlBackupListRequest,
    ShowGaussMySqlEngineVersionRequest,
    ShowGaussMySqlFlavorsRequest,
    ShowGaussMySqlInstanceInfoRequest,
    ShowGaussMySqlInstanceInfoUnifyStatusRequest,
    ShowGaussMySqlJobInfoRequest,
    ShowTaskDetailsRequest,
    TaurusRestartInstanceRequest,
)
from huaweicloudsdkgaussdb.v3 import model as models

from taskcenter.api.app import ROUTES
from tests.acceptance.conftest import Service, start_service, stop_service
from tests.acceptance.test_instances import _kill, create_request, wait_job
from tests.acceptance.test_official_sdk import sdk_client

# The values a field may take, each list as the SDK's documentation of the field gives it
# (checked below against the model's docstring, so the table cannot drift from the SDK).
_JOB = ("Pending", "Running", "Completed", "Failed")
_INSTANCE_V3 = (
    *("BUILD", "ACTIVE", "FAILED", "FROZEN", "MODIFYING", "REBOOTING", "RESTORING", "SWITCHOVER"),
    *("MIGRATING", "BACKING UP", "MODIFYING DATABASE PORT", "STORAGE FULL"),
)
_UNIFY = ("creating", "normal", "abnormal", "createfail")
_INSTANCE_OF_JOB = ("createfail", "creating", "normal", "abnormal", "deleted")
DOCUMENTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("GetJobInfoDetail", "status"): _JOB,
    ("TaskDetailInfo", "status"): _JOB,
    ("TaskDetailInfo", "instance_status"): _INSTANCE_OF_JOB,
    ("ScheduleTask", "job_status"): _JOB,
    ("ScheduleTask", "instance_status"): _INSTANCE_OF_JOB,
    ("ScheduleTask", "job_name"): (
        "PROXY_VERSION_UPGRADE",
        "VERSION_UPGRADE",
        "RESIZE_FLAVOR",
        "REBOOT_NODE",
        "REBOOT_INSTANCE",
    ),
    ("SubTaskInfo", "status"): ("Pending", "Running", "Completed"),
    ("ShowTaskDetailsResponse", "status"): ("Pending", "Running", "Completed"),
    ("Backups", "status"): ("BUILDING", "COMPLETED", "FAILED", "AVAILABLE"),
    ("Backups", "type"): ("auto", "manual"),
    ("Backups", "backup_mode"): ("differential", "completed"),
    ("Backup", "status"): ("BUILDING", "COMPLETED", "FAILED", "AVAILABLE"),
    ("Backup", "type"): ("manual",),
    ("MysqlInstanceInfoDetail", "status"): _INSTANCE_V3,
    ("MysqlInstanceInfoDetail", "type"): ("Cluster",),
    ("MysqlInstanceListInfo", "type"): ("Cluster",),
    ("MysqlInstanceListInfoUnifyStatus", "status"): _UNIFY,
    ("MysqlInstanceListInfoUnifyStatus", "type"): ("Cluster",),
    ("MysqlInstanceInfoDetailUnifyStatus", "status"): _UNIFY,
    ("MysqlInstanceInfoDetailUnifyStatus", "az_mode"): ("single", "multi"),
    ("MysqlFlavorsInfo", "type"): ("arm", "x86", "generalX86"),
    ("MysqlProxyNodes", "status"): ("ACTIVE", "ABNORMAL", "FAILED", "DELETED"),
}
# Fields whose own documentation lists no values, held to a documented list of another model:
# a listed instance's and the create answer's status are the detail's; a node's status is the
# instance's, or ABNORMAL (a node whose server is down) as the SDK documents node states.
BORROWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("MysqlInstanceListInfo", "status"): _INSTANCE_V3,
    ("MysqlInstanceResponse", "status"): _INSTANCE_V3,
    ("MysqlInstanceNodeInfo", "status"): (*_INSTANCE_V3, "ABNORMAL"),
}
# The job statuses a newer API reference adds to the SDK's list (ShowGaussMySqlJobInfo).
REFERENCE_ONLY = {"Canceled"}
PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "object": lambda v: v is not None,
}


def _docstring(model: str, attribute: str) -> str:
    return inspect.getdoc(getattr(getattr(models, model), attribute)) or ""


def test_the_value_table_is_the_sdks() -> None:
    for (model, attribute), values in DOCUMENTED.items():
        doc = _docstring(model, attribute)
        for value in values:
            assert re.search(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", doc), (model, attribute, value)


def _allowed(model: str, attribute: str) -> tuple[str, ...] | None:
    values = DOCUMENTED.get((model, attribute)) or BORROWED.get((model, attribute))
    if values is not None and values[0] in _JOB:
        return (*values, *REFERENCE_ONLY)
    return values


def check(value: Any, kind: str, where: str, problems: list[str]) -> None:
    """Add to ``problems`` every way ``value`` (raw JSON) departs from the SDK type ``kind``."""
    if kind.startswith("list["):
        if not isinstance(value, list):
            problems.append(f"{where}: {value!r} is not a list")
            return
        for index, item in enumerate(value):
            check(item, kind[5:-1], f"{where}[{index}]", problems)
    elif kind.startswith("dict("):
        if not isinstance(value, dict):
            problems.append(f"{where}: {value!r} is not an object")
            return
        inner = kind[5:-1].split(", ", 1)[1]
        for key, item in value.items():
            check(item, inner, f"{where}.{key}", problems)
    elif kind in PRIMITIVES:
        if not PRIMITIVES[kind](value):
            problems.append(f"{where}: {value!r} is not {kind}")
    else:
        cls = getattr(models, kind)
        if not isinstance(value, dict):
            problems.append(f"{where}: {value!r} is not a {kind} object")
            return
        if not cls.openapi_types:
            # GetJobEntitiesInfoDetail declares no fields: the SDK keeps its content in
            # raw_content only, and the API reference documents what it holds.
            return
        by_json_name = {json_name: attribute for attribute, json_name in cls.attribute_map.items()}
        for key, item in value.items():
            attribute = by_json_name.get(key)
            if attribute is None:
                problems.append(f"{where}.{key}: {kind} has no such field")
                continue
            check(item, cls.openapi_types[attribute], f"{where}.{key}", problems)
            allowed = _allowed(kind, attribute)
            if allowed is not None and item not in allowed:
                problems.append(f"{where}.{key}: {item!r} is none of {kind}.{attribute}'s {allowed}")


def served_methods() -> set[str]:
    """The SDK methods whose HTTP method and path taskcenter routes."""
    routes = {
        (method, re.sub(r"\{[^}]+\}", "{}", route.path))
        for route in ROUTES
        for method in (route.methods or ())
        if method != "HEAD"
    }
    source = inspect.getsource(GaussDBClient)
    served = set()
    for name, body in re.findall(r"def _(\w+)_http_info\(cls, request\):(.*?)return http_info", source, re.S):
        method = re.search(r'"method": "(\w+)"', body).group(1)  # type: ignore[union-attr]
        path = re.search(r'"resource_path": "([^"]+)"', body).group(1)  # type: ignore[union-attr]
        if (method, re.sub(r"\{[^}]+\}", "{}", path)) in routes:
            served.add(name)
    return served


class HeldClient:
    """The official client, every answer checked against its response model."""

    def __init__(self, client: GaussDBClient) -> None:
        self.client = client
        self.called: set[str] = set()

    def __call__(self, method: str, request: Any) -> Any:
        response = getattr(self.client, method)(request)
        model = getattr(self.client, f"_{method}_http_info")(request)["response_type"]
        body = orjson.loads(response.raw_content) if response.raw_content else {}
        problems: list[str] = []
        if list(getattr(models, model).openapi_types) != ["body"]:  # ["body"]: a free-form body
            check(body, model, method, problems)
        assert not problems, "\n".join(problems)
        self.called.add(method)
        return response


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldClient]:
    service: Service = start_service(tmp_path / "data", {"TASKCENTER_ADMIN_PASSWORD": "admin-secret-1"})
    try:
        yield HeldClient(sdk_client(service, service.project("acme")))
    finally:
        stop_service(service)
        for pidfile in (tmp_path / "data" / "instances").glob("*/mysqld.pid"):
            _kill(pidfile)


def status_of(held: HeldClient, instance_id: str) -> str:
    shown = held(
        "show_gauss_my_sql_instance_info", ShowGaussMySqlInstanceInfoRequest(instance_id=instance_id)
    )
    node = shown.instance.nodes[0].status
    # The node says what the instance says, or ABNORMAL where a down server makes it FAILED.
    assert node == shown.instance.status or (shown.instance.status, node) == ("FAILED", "ABNORMAL")
    return str(shown.instance.status)


def wait_status(
    held: HeldClient, instance_id: str, passing: set[str], target: str, timeout: float = 120
) -> None:
    """A provider's waiter: poll while the status is one of ``passing``, until ``target``."""
    deadline = time.monotonic() + timeout
    while (status := status_of(held, instance_id)) != target:
        assert status in passing, f"unexpected state {status!r}, wanted {target}"
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.2)


def test_every_served_sdk_method_answers_as_its_model_says(held: HeldClient) -> None:
    client = held.client
    created = held("create_gauss_my_sql_instance", create_request("model-db"))
    instance_id = created.instance.id
    assert created.instance.status == "BUILD"
    # As the Terraform provider waits for a create: BUILD until ACTIVE, nothing else between.
    wait_status(held, instance_id, {"BUILD"}, "ACTIVE")
    create_job = wait_job(client, created.job_id)
    unify = held(
        "show_gauss_my_sql_instance_info_unify_status",
        ShowGaussMySqlInstanceInfoUnifyStatusRequest(instance_id=instance_id),
    )
    assert unify.instance.status == "normal"
    listed = held("list_gauss_my_sql_instances", ListGaussMySqlInstancesRequest(name="model-db"))
    assert [(i.id, i.status) for i in listed.instances] == [(instance_id, "ACTIVE")]
    assert held("list_gauss_my_sql_instances", ListGaussMySqlInstancesRequest(name="other")).total_count == 0
    listed = held(
        "list_gauss_my_sql_instances_unify_status", ListGaussMySqlInstancesUnifyStatusRequest(name="*model")
    )
    assert [(i.id, i.status) for i in listed.instances] == [(instance_id, "normal")]

    databases = CreateGaussMySqlDatabaseRequestBody(
        databases=[CreateGaussMySqlDatabase(name="inventory", character_set="utf8mb4")]
    )
    job = held(
        "create_gauss_my_sql_database",
        CreateGaussMySqlDatabaseRequest(instance_id=instance_id, body=databases),
    )
    wait_job(client, job.job_id)
    users = CreateDatabaseUserRequest(users=[CreateDatabaseUserList(name="app", password="App-Passw0rd")])
    job = held(
        "create_gauss_my_sql_database_user",
        CreateGaussMySqlDatabaseUserRequest(instance_id=instance_id, body=users),
    )
    wait_job(client, job.job_id)
    held(
        "reset_gauss_my_sql_password",
        ResetGaussMySqlPasswordRequest(
            instance_id=instance_id, body=MysqlResetPasswordRequest(password="New-Passw0rd")
        ),
    )

    backup = held(
        "create_gauss_my_sql_backup",
        CreateGaussMySqlBackupRequest(body=MysqlCreateBackupRequest(instance_id=instance_id, name="model-1")),
    )
    wait_status(held, instance_id, {"BACKING UP"}, "ACTIVE")
    wait_job(client, backup.job_id)
    backups = held(
        "show_gauss_my_sql_backup_list",
        ShowGaussMySqlBackupListRequest(instance_name="model-db", backup_type="manual", name="model-1"),
    )
    assert [b.id for b in backups.backups] == [backup.backup.id]

    # An operation shows from its acceptance: the first answer after it is already REBOOTING.
    restart = held(
        "restart_gauss_my_sql_instance",
        RestartGaussMySqlInstanceRequest(instance_id=instance_id, body=TaurusRestartInstanceRequest()),
    )
    assert status_of(held, instance_id) == "REBOOTING"
    wait_status(held, instance_id, {"REBOOTING"}, "ACTIVE")
    wait_job(client, restart.job_id)
    resize = held(
        "change_gauss_my_sql_instance_specification",
        ChangeGaussMySqlInstanceSpecificationRequest(
            instance_id=instance_id,
            body=MysqlChangeSpecificationRequest(
                resize_flavor=MysqlResizeFlavor(spec_code="gaussdb.mysql.large.x86.4")
            ),
        ),
    )
    assert status_of(held, instance_id) == "MODIFYING"
    wait_status(held, instance_id, {"MODIFYING"}, "ACTIVE")
    wait_job(client, resize.job_id)

    # A restart in the maintenance window waits in scheduled-jobs; the instance stays ACTIVE.
    delayed = held(
        "restart_gauss_my_sql_instance",
        RestartGaussMySqlInstanceRequest(
            instance_id=instance_id, body=TaurusRestartInstanceRequest(delay=True)
        ),
    )
    assert status_of(held, instance_id) == "ACTIVE"
    schedules = held("list_schedule_jobs", ListScheduleJobsRequest(job_name="REBOOT_INSTANCE"))
    assert [(s.job_id, s.instance_status) for s in schedules.schedules] == [(delayed.job_id, "normal")]
    held(
        "cancel_schedule_task",
        CancelScheduleTaskRequest(body=CancelScheduleTask(job_ids=[delayed.job_id])),
    )

    jobs = held("list_immediate_jobs", ListImmediateJobsRequest(limit="50"))
    assert {j.instance_status for j in jobs.jobs} == {"normal"}
    details = held(
        "show_task_details", ShowTaskDetailsRequest(instance_id=instance_id, job_id=created.job_id)
    )
    assert details.status == "Completed" and len(details.sub_task_list) == 6
    held("show_gauss_my_sql_job_info", ShowGaussMySqlJobInfoRequest(id=create_job.id))
    held("delete_task_record", DeleteTaskRecordRequest(job_id=restart.job_id))
    held(
        "show_gauss_my_sql_flavors",
        ShowGaussMySqlFlavorsRequest(database_name="gaussdb-mysql", availability_zone_mode="single"),
    )
    held(
        "show_gauss_my_sql_engine_version", ShowGaussMySqlEngineVersionRequest(database_name="gaussdb-mysql")
    )

    # As the provider waits for a delete: ACTIVE (or BACKING UP, FAILED) until not-found.
    deleted = held("delete_gauss_my_sql_instance", DeleteGaussMySqlInstanceRequest(instance_id=instance_id))
    with pytest.raises(ClientRequestException) as gone:
        wait_status(held, instance_id, {"ACTIVE", "BACKING UP", "FAILED"}, "DELETED")
    assert (gone.value.status_code, gone.value.error_code) == (404, "DBS.200045")
    assert wait_job(client, deleted.job_id).status == "Completed"
    with pytest.raises(ClientRequestException) as gone_too:
        client.show_gauss_my_sql_instance_info_unify_status(
            ShowGaussMySqlInstanceInfoUnifyStatusRequest(instance_id=instance_id)
        )
    assert gone_too.value.status_code == 404

    assert held.called == served_methods(), "every served SDK method is exercised here"
