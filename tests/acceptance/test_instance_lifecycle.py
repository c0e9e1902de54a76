"""Instances beyond the happy path: missing MariaDB, taskcenter restarts, a dead server, delays."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from huaweicloudsdkgaussdb.v3 import (
    CancelScheduleTask,
    CancelScheduleTaskRequest,
    DeleteGaussMySqlInstanceRequest,
    GaussDBClient,
    ListScheduleJobsRequest,
    RestartGaussMySqlInstanceRequest,
    ShowGaussMySqlInstanceInfoRequest,
    ShowGaussMySqlJobInfoRequest,
    ShowTaskDetailsRequest,
    TaurusRestartInstanceRequest,
)

from tests.acceptance.conftest import TASKCENTER, start_service, stop_service
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
            client = sdk_client(second, tenant)
            show = ShowGaussMySqlInstanceInfoRequest(instance_id=created.instance.id)
            deadline = time.monotonic() + 10
            while (shown := client.show_gauss_my_sql_instance_info(show)).instance.status != "FAILED":
                status = shown.instance.status
                assert status == "ACTIVE" and time.monotonic() < deadline, status
                time.sleep(0.05)
            # FAILED: the v3 word for an abnormal instance; its node says ABNORMAL.
            assert shown.instance.nodes[0].status == "ABNORMAL"
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


def wait_failed(client: GaussDBClient, job_id: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job_id)).job
        if job.status not in ("Pending", "Running"):
            assert job.status == "Failed", (job.status, job.fail_reason)
            return job
        assert time.monotonic() < deadline, f"{job.name} still {job.status}"
        time.sleep(0.2)


def run_worker_until_ready(data_dir: Path, pg_url: str, log: Path) -> None:
    """A standalone `taskcenter worker` starts, says it is ready, and stops cleanly on SIGTERM."""
    with log.open("w") as out:
        worker = subprocess.Popen(
            [*TASKCENTER, "worker", "--data-dir", str(data_dir), "--database-url", pg_url],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while "SIGTERM stops it" not in log.read_text():
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    worker.terminate()
    assert worker.wait(30) == 0, log.read_text()


def assert_fails_on_the_wrong_node(client: GaussDBClient, instance_id: str, job_id: str, node: Path) -> None:
    """The job ends Failed saying the instance is not on this node, with no step left Running."""
    reason = wait_failed(client, job_id).fail_reason
    assert "is not on this node" in reason and str(node) in reason, reason
    assert "Error" not in reason and "Errno" not in reason, reason
    steps = client.show_task_details(ShowTaskDetailsRequest(instance_id=instance_id, job_id=job_id))
    assert [s.sub_task_name for s in steps.sub_task_list or [] if s.status == "Running"] == []


def test_two_nodes_on_one_postgresql_run_only_the_servers_they_hold(tmp_path: Path, pg_url: str) -> None:
    """Each node has its own --data-dir; an instance's server lives in the one that created it."""
    node_a, node_b = tmp_path / "a", tmp_path / "b"
    first = start_service(node_a, ENV, database_url=pg_url)
    tenant = first.project("acme")
    try:
        client = sdk_client(first, tenant)
        created = client.create_gauss_my_sql_instance(create_request("held-by-a"))
        wait_job(client, created.job_id)
    finally:
        stop_service(first)
    instance_id = created.instance.id
    pidfile = node_a / "instances" / instance_id / "mysqld.pid"
    pid = int(pidfile.read_text())
    restart = RestartGaussMySqlInstanceRequest(instance_id=instance_id, body=TaurusRestartInstanceRequest())
    delete = DeleteGaussMySqlInstanceRequest(instance_id=instance_id)
    try:
        # Node B holds none of A's files: it starts all the same, and so does a standalone worker
        # (both stopped at start-up on the error log of A's instance, which they could not open).
        second = start_service(node_b, ENV, database_url=pg_url)
        try:
            run_worker_until_ready(tmp_path / "c", pg_url, tmp_path / "worker.log")
            assert "Traceback" not in second.log.read_text() + (tmp_path / "worker.log").read_text()
            # An operation that lands on B fails saying why; A's server is untouched and the
            # instance is not marked deleted.
            client = sdk_client(second, tenant)
            job_id = client.restart_gauss_my_sql_instance(restart).job_id
            assert_fails_on_the_wrong_node(client, instance_id, job_id, node_b)
            job_id = client.delete_gauss_my_sql_instance(delete).job_id
            assert_fails_on_the_wrong_node(client, instance_id, job_id, node_b)
            assert int(pidfile.read_text()) == pid
            os.kill(pid, 0)  # still running
            shown = client.show_gauss_my_sql_instance_info(
                ShowGaussMySqlInstanceInfoRequest(instance_id=instance_id)
            )
            assert shown.instance.id == instance_id
        finally:
            stop_service(second)
        # Back on A, the instance is run as before.
        third = start_service(node_a, ENV, database_url=pg_url)
        try:
            client = sdk_client(third, tenant)
            wait_job(client, client.delete_gauss_my_sql_instance(delete).job_id)
            assert not pidfile.parent.exists()
        finally:
            stop_service(third)
    finally:
        _kill(pidfile)
