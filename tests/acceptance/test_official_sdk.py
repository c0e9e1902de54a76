"""The official huaweicloudsdkgaussdb client, unmodified, against a real `taskcenter serve`."""

from __future__ import annotations

import dataclasses
import re
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkgaussdb.v3 import (
    CancelScheduleTask,
    CancelScheduleTaskRequest,
    DeleteTaskRecordRequest,
    GaussDBClient,
    ListImmediateJobsRequest,
    ListScheduleJobsRequest,
    ShowGaussMySqlJobInfoRequest,
    ShowTaskDetailsRequest,
)

from tests.acceptance.conftest import Service, start_service, stop_service
from tests.support import sign


def sdk_client(service: Service, creds: dict[str, str]) -> GaussDBClient:
    return (
        GaussDBClient.new_builder()
        .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
        .with_endpoints([service.url])
        .build()
    )


def admin_credentials(service: Service) -> dict[str, str]:
    """The admin's AK/SK as printed once at first start."""
    text = service.log.read_text()
    return {
        "access_key": re.search(r"access_key\s+(\S+)", text).group(1),  # type: ignore[union-attr]
        "secret_key": re.search(r"secret_key\s+(\S+)", text).group(1),  # type: ignore[union-attr]
    }


def produce(service: Service, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    admin = admin_credentials(service)
    raw = orjson.dumps(body) if body is not None else b""
    headers = sign(admin["access_key"], admin["secret_key"], method, service.url + path, raw)
    response = httpx.request(method, service.url + path, content=raw or None, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def test_sdk_reads_jobs_lists_them_and_deletes_records(service: Service) -> None:
    tenant = service.project("acme")
    client = sdk_client(service, tenant)
    entities = {
        "instance": {
            "endpoint": "127.0.0.1:3306",
            "type": "Cluster",
            "datastore": {"type": "gaussdb-mysql", "version": "8.0"},
        },
        "resource_ids": ["i1.vm"],
    }
    job = produce(
        service,
        "POST",
        "/internal/v1/jobs",
        {"project_id": tenant["project_id"], "name": "CreateGaussDBforMySQLInstance",
         "instance": {"id": "i1", "name": "db-1"}},
    )["job"]  # fmt: skip

    # Readable by the SDK the moment it exists, with progress while it runs.
    produce(service, "PATCH", f"/internal/v1/jobs/{job['id']}", {"process": 60})
    shown = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job["id"]))
    assert shown.job.id == job["id"] and shown.job.status == "Running" and shown.job.process == "60%"
    assert shown.job.instance.id == "i1" and shown.job.instance.name == "db-1"
    assert shown.job.ended == "" and shown.job.fail_reason == ""

    produce(service, "PATCH", f"/internal/v1/jobs/{job['id']}", {"status": "Completed", "entities": entities})
    done = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job["id"]))
    assert done.job.status == "Completed" and done.job.process == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", done.job.ended)
    assert orjson.loads(done.raw_content)["job"]["entities"] == entities

    listed = client.list_immediate_jobs(ListImmediateJobsRequest(limit="10", offset="1"))
    assert listed.total_count == 1 and listed.action_names == ["CreateGaussDBforMySQLInstance"]
    assert listed.jobs[0].job_id == job["id"] and listed.jobs[0].status == "Completed"
    assert listed.jobs[0].instance_name == "db-1"

    client.delete_task_record(DeleteTaskRecordRequest(job_id=job["id"]))
    with pytest.raises(ClientRequestException) as gone:
        client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job["id"]))
    assert gone.value.error_code == "DBS.200543"


def test_sdk_gets_job_not_found_for_an_unknown_job(service: Service) -> None:
    client = sdk_client(service, service.project("acme"))
    with pytest.raises(ClientRequestException) as error:
        client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=str(uuid.uuid4())))
    assert error.value.status_code == 400
    assert error.value.error_code == "DBS.200543"
    assert error.value.error_msg == "The job does not exist."
    assert re.fullmatch(r"[0-9a-f]{32}", error.value.request_id)


def test_sdk_never_sees_another_projects_job(service: Service) -> None:
    owner, other = service.project("owner"), service.project("other")
    job = produce(service, "POST", "/internal/v1/jobs", {"project_id": owner["project_id"], "name": "X"})[
        "job"
    ]
    with pytest.raises(ClientRequestException) as error:
        sdk_client(service, other).show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job["id"]))
    assert error.value.error_code == "DBS.200543"
    listed = sdk_client(service, other).list_immediate_jobs(ListImmediateJobsRequest())
    assert listed.total_count == 0 and listed.jobs == []


def test_sdk_with_a_wrong_secret_is_rejected(service: Service) -> None:
    tenant = service.project("acme")
    client = sdk_client(service, {**tenant, "secret_key": "x" * 40})
    with pytest.raises(ClientRequestException) as error:
        client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=str(uuid.uuid4())))
    assert error.value.status_code == 401 and error.value.error_code == "APIGW.0301"


def test_sdk_chinese_error_messages(service: Service) -> None:
    client = sdk_client(service, service.project("acme"))
    with pytest.raises(ClientRequestException) as error:
        client.show_gauss_my_sql_job_info(
            ShowGaussMySqlJobInfoRequest(id=str(uuid.uuid4()), x_language="zh-cn")
        )
    assert error.value.error_msg == "任务不存在。"


def test_sdk_scheduled_jobs_cancel_and_task_details(tmp_path: Path) -> None:
    service = start_service(
        tmp_path / "data",
        {"TASKCENTER_ADMIN_PASSWORD": "admin-secret-1"},
        ("--handlers", "tests.engine.handlers"),
    )
    try:
        tenant = service.project("acme")
        client = sdk_client(service, tenant)
        start = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+0000")
        job = produce(
            service,
            "POST",
            "/internal/v1/jobs",
            {"project_id": tenant["project_id"], "name": "TestSlowRetrySafe", "start_time": start,
             "instance": {"id": "inst-1", "name": "db-1"}},
        )["job"]  # fmt: skip
        listed = client.list_schedule_jobs(ListScheduleJobsRequest(offset="0", limit="10"))
        assert listed.total_count == 1
        assert listed.schedules[0].job_id == job["id"] and listed.schedules[0].start_time == start
        assert listed.schedules[0].job_status == "Pending"
        cancelled = client.cancel_schedule_task(
            CancelScheduleTaskRequest(body=CancelScheduleTask(job_ids=[job["id"]]))
        )
        assert cancelled.job_ids == [job["id"]]
        shown = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job["id"]))
        assert shown.job.status == "Canceled"
        details = client.show_task_details(ShowTaskDetailsRequest(instance_id="inst-1", job_id=job["id"]))
        assert details.job_id == job["id"] and details.status == "Canceled" and details.sub_task_list == []
    finally:
        stop_service(service)


def test_embedded_worker_job_survives_a_sigkill_of_the_service(tmp_path: Path) -> None:
    """serve on SQLite is killed mid-job; after a restart the job is rescued and re-run."""
    flags = ("--handlers", "tests.engine.handlers", "--lease-seconds", "2", "--check-seconds", "0.5")
    env = {"TASKCENTER_ADMIN_PASSWORD": "admin-secret-1"}
    first = start_service(tmp_path / "data", env, flags)
    tenant = first.project("acme")
    client = sdk_client(first, tenant)
    body = {"project_id": tenant["project_id"], "name": "TestSlowRetrySafe", "params": {"seconds": 3}}
    job = produce(first, "POST", "/internal/v1/jobs", body)["job"]
    deadline = time.monotonic() + 20
    while (
        client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job["id"])).job.status != "Running"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()

    second = start_service(tmp_path / "data", env, flags)
    try:
        client = sdk_client(second, tenant)
        deadline = time.monotonic() + 40
        while True:
            status = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job["id"])).job.status
            if status == "Completed":
                break
            assert status in ("Running", "Pending") and time.monotonic() < deadline, status
            time.sleep(0.1)
        # The admin's keys were printed by the first start only.
        history = produce(
            dataclasses.replace(second, log=first.log), "GET", f"/internal/v1/jobs/{job['id']}", None
        )
        assert any("was lost" in e["detail"] for e in history["events"])
    finally:
        stop_service(second)
