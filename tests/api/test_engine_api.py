"""Jobs that workers run, scheduled jobs, cancels and sub-task details, over HTTP."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from tests.api.conftest import Api


def poll(api: Api, job_id: str, until: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = api.get(api.job_path(), params={"id": job_id}).json()["job"]
        if job["status"] == until:
            return job
        assert time.monotonic() < deadline, f"job stayed {job['status']}"
        time.sleep(0.05)


def wire_time(api: Api, **delta: float) -> str:
    now: datetime = api.clock.now
    return (now + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def scheduled_path(api: Api) -> str:
    return f"/v3/{api.creds['a'].project_id}/scheduled-jobs"


def cancel(api: Api, job_ids: list[str]) -> Any:
    return api.http.request(
        "DELETE", scheduled_path(api), json={"job_ids": job_ids}, headers={"X-Auth-Token": api.token("a")}
    )


def test_a_job_with_a_handler_is_run_by_the_embedded_worker(engine_api: Api) -> None:
    created = engine_api.create_job(name="TaskcenterSleep", params={"seconds": 1})
    assert created["status"] == "Pending"
    running = poll(engine_api, created["id"], "Running")
    assert running["process"].endswith("%")
    done = poll(engine_api, created["id"], "Completed")
    assert done["ended"] and done["process"] == ""


def test_a_handler_job_cannot_be_created_running_or_patched(engine_api: Api) -> None:
    body = {"project_id": engine_api.creds["a"].project_id, "name": "TaskcenterSleep", "status": "Running"}
    response = engine_api.signed("POST", "/internal/v1/jobs", json=body)
    assert response.status_code == 400 and "status" in response.json()["error_msg"]
    job = engine_api.create_job(name="TaskcenterSleep", start_time=wire_time(engine_api, hours=1))
    patched = engine_api.patch_job(job["id"], process=50)
    assert patched.status_code == 409 and patched.json()["error_code"] == "TASKCENTER.409003"


def test_scheduled_job_is_listed_and_can_be_cancelled(engine_api: Api) -> None:
    start = wire_time(engine_api, hours=1)
    job = engine_api.create_job(
        name="TestSlowRetrySafe",
        start_time=start,
        instance={"id": "inst-1", "name": "db-1"},
        params={"target_config": {"flavor_ref": "gaussdb.mysql.large.x86.4"}},
    )
    listing = engine_api.get(scheduled_path(engine_api)).json()
    assert listing["total_count"] == 1
    [row] = listing["schedules"]
    assert row["job_id"] == job["id"] and row["job_status"] == "Pending" and row["start_time"] == start
    assert row["instance_id"] == "inst-1" and row["project_id"] == engine_api.creds["a"].project_id
    assert row["target_config"] == {"flavor_ref": "gaussdb.mysql.large.x86.4"}
    response = cancel(engine_api, [job["id"]])
    assert response.status_code == 200 and response.json() == {"job_ids": [job["id"]]}
    assert poll(engine_api, job["id"], "Canceled")["ended"]
    again = cancel(engine_api, [job["id"]])
    assert again.status_code == 400 and "already ended" in again.json()["error_msg"]
    canceled = engine_api.get(scheduled_path(engine_api), params={"status": "Canceled"}).json()
    assert [r["job_id"] for r in canceled["schedules"]] == [job["id"]]


def test_scheduled_job_runs_once_due(engine_api: Api) -> None:
    engine_api.token("a")
    job = engine_api.create_job(name="TaskcenterNoop", start_time=wire_time(engine_api, seconds=2))
    assert (
        engine_api.get(engine_api.job_path(), params={"id": job["id"]}).json()["job"]["status"] == "Pending"
    )
    poll(engine_api, job["id"], "Completed", timeout=10)


def test_cancelling_a_running_job_stops_it(engine_api: Api) -> None:
    job = engine_api.create_job(name="TestSlowRetrySafe", params={"seconds": 60})
    poll(engine_api, job["id"], "Running")
    assert cancel(engine_api, [job["id"]]).status_code == 200
    poll(engine_api, job["id"], "Canceled", timeout=10)


def test_cancel_errors(engine_api: Api) -> None:
    unknown = cancel(engine_api, [str(uuid.uuid4())])
    assert unknown.status_code == 400 and unknown.json()["error_code"] == "DBS.200543"
    empty = cancel(engine_api, [])
    assert empty.status_code == 400 and "job_ids" in empty.json()["error_msg"]
    report_only = engine_api.create_job()
    refused = cancel(engine_api, [report_only["id"]])
    assert refused.status_code == 400 and "producer" in refused.json()["error_msg"]


def test_admin_cancel_endpoint(engine_api: Api) -> None:
    job = engine_api.create_job(name="TaskcenterNoop", start_time=wire_time(engine_api, hours=2))
    response = engine_api.signed("POST", f"/internal/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 200 and response.json()["job"]["status"] == "Canceled"


def test_scheduled_list_parameters(engine_api: Api) -> None:
    for params, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"offset": "x"}, "offset")):
        response = engine_api.get(scheduled_path(engine_api), params=params)
        assert response.status_code == 400 and field in response.json()["error_msg"]


def test_task_center_detail_shows_sub_tasks(api: Api) -> None:
    job = api.create_job(instance={"id": "inst-7", "name": "db-7"})
    subs = [
        {"name": "create data dir", "percent": 100, "status": "Completed", "remaining_time": 0},
        {"name": "start server", "percent": 40, "status": "Running", "remaining_time": 12},
    ]
    api.patch_job(job["id"], sub_tasks=subs)
    path = f"/v3/{api.creds['a'].project_id}/instances/inst-7/task-center-detail"
    detail = api.get(path, params={"job_id": job["id"]}).json()
    assert detail == {
        "instance_id": "inst-7",
        "instance_name": "db-7",
        "job_id": job["id"],
        "job_name": "CreateGaussDBforMySQLInstance",
        "status": "Running",
        "sub_task_list": [
            {
                "sub_task_name": "create data dir",
                "percent": "100",
                "status": "Completed",
                "remaining_time": "0",
            },
            {"sub_task_name": "start server", "percent": "40", "status": "Running", "remaining_time": "12"},
        ],
    }
    # The job is not inst-8's: the job's not-found once inst-8 exists (its own job), the
    # instance's before.
    other = f"/v3/{api.creds['a'].project_id}/instances/inst-8/task-center-detail"
    assert api.get(other, params={"job_id": job["id"]}).json()["error_code"] == "DBS.200045"
    api.create_job(instance={"id": "inst-8", "name": "db-8"})
    assert api.get(other, params={"job_id": job["id"]}).json()["error_code"] == "DBS.200543"
    assert api.get(path).status_code == 400
