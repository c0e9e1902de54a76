"""GET /v3/{project_id}/immediate-jobs and DELETE /v3/{project_id}/jobs/{job_id}."""

from __future__ import annotations

import json
import socket
import uuid

import pytest

from taskcenter.api.protocol import MAX_HEAD
from tests.api.conftest import Api


def list_path(api: Api, who: str = "a") -> str:
    return f"/v3/{api.creds[who].project_id}/immediate-jobs"


def test_list_newest_first_with_pages(api: Api) -> None:
    ids = [api.create_job()["id"] for _ in range(12)]
    api.create_job(who="b")
    first = api.get(list_path(api)).json()
    assert first["total_count"] == 12
    assert [j["job_id"] for j in first["jobs"]] == list(reversed(ids))[:10]
    second = api.get(list_path(api), params={"offset": 2, "limit": 10}).json()
    assert [j["job_id"] for j in second["jobs"]] == list(reversed(ids))[10:]
    assert first["action_names"] == ["CreateGaussDBforMySQLInstance"]


def test_list_rows_have_the_task_detail_shape(api: Api) -> None:
    job = api.create_job(instance={"id": "i-9", "name": "db-9"})
    api.patch_job(job["id"], process=20, sub_tasks=[{"name": "s", "percent": 20, "status": "Running"}])
    row = api.get(list_path(api)).json()["jobs"][0]
    assert row["job_id"] == job["id"] and row["instance_id"] == "i-9" and row["instance_name"] == "db-9"
    assert row["status"] == "Running" and row["process"] == "20%" and row["show_detail"] is True
    assert row["ended_time"] == "" and row["created_time"].endswith("+0000")


def test_list_filters(api: Api) -> None:
    a = api.create_job(name="RebootGaussDBforMySQLInstance")
    b = api.create_job()
    api.patch_job(b["id"], status="Completed")
    rows = api.get(list_path(api), params={"status": "Completed"}).json()["jobs"]
    assert [r["job_id"] for r in rows] == [b["id"]]
    rows = api.get(list_path(api), params={"job_name": "RebootGaussDBforMySQLInstance"}).json()["jobs"]
    assert [r["job_id"] for r in rows] == [a["id"]]
    rows = api.get(list_path(api), params={"job_id": a["id"]}).json()["jobs"]
    assert [r["job_id"] for r in rows] == [a["id"]]
    future = api.clock.now.replace(year=api.clock.now.year + 1).strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert api.get(list_path(api), params={"start_time": future}).json()["total_count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 15}, "limit"), ({"offset": "\u00b2"}, "offset"), ({"status": "Weird"}, "status"),
     ({"start_time": "today"}, "start_time")],
)  # fmt: skip
def test_list_bad_parameters(api: Api, params: dict[str, object], field: str) -> None:
    response = api.get(list_path(api), params=params)
    assert response.status_code == 400 and field in response.json()["error_msg"]


def test_delete_finished_job_record(api: Api) -> None:
    job = api.create_job()
    running = api.http.delete(f"{api.job_path()}/{job['id']}", headers={"X-Auth-Token": api.token("a")})
    assert running.status_code == 400 and set(running.json()) == {"error_code", "error_msg"}
    api.patch_job(job["id"], status="Completed")
    done = api.http.delete(f"{api.job_path()}/{job['id']}", headers={"X-Auth-Token": api.token("a")})
    assert done.status_code == 200
    gone = api.get(api.job_path(), params={"id": job["id"]})
    assert gone.status_code == 400 and gone.json()["error_code"] == "DBS.200543"


def test_delete_of_another_projects_job_looks_unknown(api: Api) -> None:
    job = api.create_job(who="b")
    api.patch_job(job["id"], status="Completed")
    response = api.http.delete(f"{api.job_path()}/{job['id']}", headers={"X-Auth-Token": api.token("a")})
    assert response.status_code == 400 and response.json()["error_code"] == "DBS.200543"
    assert api.get(api.job_path("b"), who="b", params={"id": job["id"]}).status_code == 200


def test_unknown_route_and_method(api: Api) -> None:
    missing = api.http.get("/v3/x/nothing-here")
    assert missing.status_code == 404 and missing.json()["error_code"] == "APIGW.0101"
    # A trailing slash is another path, as at the cloud's gateway: no redirect.
    for path in (api.job_path() + "/", api.job_path().replace("/jobs", "/immediate-jobs/")):
        slashed = api.http.get(path, params={"id": "a9767ede-fe0f-4888-9003-e843a4c90514"})
        assert slashed.status_code == 404 and slashed.json()["error_code"] == "APIGW.0101"
        assert "location" not in slashed.headers
    wrong = api.http.put(api.job_path())
    assert wrong.status_code == 405 and set(wrong.json()) == {"error_code", "error_msg"}
    assert wrong.headers["x-request-id"]


def test_health_needs_no_credentials(api: Api) -> None:
    response = api.http.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_delete_unknown_job(api: Api) -> None:
    response = api.http.delete(f"{api.job_path()}/{uuid.uuid4()}", headers={"X-Auth-Token": api.token("a")})
    assert response.status_code == 400 and response.json()["error_code"] == "DBS.200543"


def test_a_head_past_the_cap_gets_431_and_a_closed_connection(api: Api) -> None:
    """Over a real socket: an endless header is cut off at MAX_HEAD, not buffered without end."""
    port = int(api.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nhost: t\r\nx-junk: ")
        answer = b""
        try:
            for _ in range(4 * MAX_HEAD // 4096):
                sock.sendall(b"a" * 4096)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed by the server, as it should be
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ") and head.endswith(b"\r\nconnection: close")
    assert json.loads(body)["error_code"] == "DBS.200001"
    assert api.http.get("/health").status_code == 200  # and the server serves on
