"""Instances beyond the happy path: missing MariaDB, taskcenter restarts, a dead server, delays."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
from huaweicloudsdkgaussdb.v3 import (
    CancelScheduleTask,
    CancelScheduleTaskRequest,
    DeleteGaussMySqlInstanceRequest,
    ListScheduleJobsRequest,
    ShowGaussMySqlInstanceInfoRequest,
    ShowGaussMySqlJobInfoRequest,
)

from tests.acceptance.conftest import start_service, stop_service
from tests.acceptance.test_instances import _kill, connect, create_request, endpoint_of, wait_job
from tests.acceptance.test_official_sdk import sdk_client
from tests.support import sign

ENV = {"TASKCENTER_ADMIN_PASSWORD": "admin-secret-1"}


def test_missing_mariadb_fails_the_job_saying_how_to_install_it(tmp_path: Path) -> None:
    service = start_service(tmp_path / "data", {**ENV, "TASKCENTER_MARIADB_PATH": str(tmp_path / "empty")})
    try:
        client = sdk_client(service, service.project("acme"))
        created = client.create_gauss_my_sql_instance(create_request("no-mariadb"))
        deadline = time.monotonic() + 30
        while (
            job := client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=created.job_id)).job
        ).status != "Failed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert "apt-get install -y mariadb-server mariadb-client" in job.fail_reason
        detail = client.show_gauss_my_sql_instance_info(
            ShowGaussMySqlInstanceInfoRequest(instance_id=created.instance.id)
        )
        assert detail.instance.status == "FAILED"
        assert not (service.data_dir / "instances" / created.instance.id).exists()  # nothing left behind
    finally:
        stop_service(service)


def test_servers_survive_taskcenter_restarts_and_a_dead_server_shows_abnormal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_service(data, ENV)
    tenant = first.project("acme")
    client = sdk_client(first, tenant)
    created = client.create_gauss_my_sql_instance(create_request("long-lived"))
    wait_job(client, created.job_id)
    endpoint = endpoint_of(client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=created.job_id)))
    pidfile = data / "instances" / created.instance.id / "mysqld.pid"
    pid = int(pidfile.read_text())
    try:
        # taskcenter dies hard: the server keeps running and is adopted, not started twice.
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        second = start_service(data, ENV)
        try:
            assert int(pidfile.read_text()) == pid
            assert "adopted" in second.log.read_text()
            with connect(endpoint) as conn:
                assert conn.open
            # The server dies: the instance is abnormal; the next start of taskcenter restarts it.
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            client = sdk_client(second, tenant)
            shown = client.show_gauss_my_sql_instance_info(
                ShowGaussMySqlInstanceInfoRequest(instance_id=created.instance.id)
            )
            # FAILED: the v3 word for an abnormal instance; its node says ABNORMAL.
            assert shown.instance.status == "FAILED" and shown.instance.nodes[0].status == "ABNORMAL"
        finally:
            stop_service(second)
        third = start_service(data, ENV)
        try:
            assert int(pidfile.read_text()) != pid
            with connect(endpoint) as conn:
                assert conn.open
            client = sdk_client(third, tenant)
            deleted = client.delete_gauss_my_sql_instance(
                DeleteGaussMySqlInstanceRequest(instance_id=created.instance.id)
            )
            wait_job(client, deleted.job_id)
        finally:
            stop_service(third)
    finally:
        _kill(pidfile)


def test_a_delayed_resize_waits_for_the_maintenance_window_and_can_be_cancelled(tmp_path: Path) -> None:
    service = start_service(tmp_path / "data", ENV)
    try:
        tenant = service.project("acme")
        client = sdk_client(service, tenant)
        created = client.create_gauss_my_sql_instance(create_request("resize-later"))
        wait_job(client, created.job_id)
        # The SDK's resize body has no delay; taskcenter accepts one, as its restart body does.
        path = f"/v3/{tenant['project_id']}/instances/{created.instance.id}/action"
        body = b'{"resize_flavor": {"spec_code": "gaussdb.mysql.large.x86.4"}, "delay": true}'
        headers = sign(tenant["access_key"], tenant["secret_key"], "POST", service.url + path, body)
        response = httpx.post(service.url + path, content=body, headers=headers)
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        schedules = client.list_schedule_jobs(ListScheduleJobsRequest()).schedules
        assert [(s.job_id, s.job_name, s.job_status) for s in schedules] == [
            (job_id, "RESIZE_FLAVOR", "Pending")
        ]
        assert schedules[0].start_time.endswith("18:00:00+0000")
        assert schedules[0].target_config == {"flavor_ref": "gaussdb.mysql.large.x86.4"}
        client.cancel_schedule_task(CancelScheduleTaskRequest(body=CancelScheduleTask(job_ids=[job_id])))
        assert (
            client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job_id)).job.status
            == "Canceled"
        )
        deleted = client.delete_gauss_my_sql_instance(
            DeleteGaussMySqlInstanceRequest(instance_id=created.instance.id)
        )
        wait_job(client, deleted.job_id)
    finally:
        stop_service(service)
        for pidfile in (tmp_path / "data" / "instances").glob("*/mysqld.pid"):
            _kill(pidfile)
