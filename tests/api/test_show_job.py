"""GET /v3/{project_id}/jobs?id= exactly as the reference documents it."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.api.conftest import Api

TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000")
NOT_FOUND = {"error_code": "DBS.200543", "error_msg": "The job does not exist."}


def test_running_job_has_all_nine_fields(api: Api) -> None:
    created = api.create_job(instance={"id": "inst-1", "name": "db-1"})
    api.patch_job(created["id"], process=60)
    response = api.get(api.job_path(), params={"id": created["id"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    job = response.json()["job"]
    assert list(job) == [
        "id", "name", "status", "created", "ended", "process", "instance", "entities", "fail_reason"
    ]  # fmt: skip
    assert job["id"] == created["id"] and uuid.UUID(job["id"]).version == 4
    assert job["name"] == "CreateGaussDBforMySQLInstance"
    assert job["status"] == "Running"
    assert TIME.fullmatch(job["created"])
    assert job["ended"] == ""
    assert job["process"] == "60%"
    assert job["instance"] == {"id": "inst-1", "name": "db-1"}
    assert job["entities"] == {}
    assert job["fail_reason"] == ""


def test_completed_job_as_in_the_reference_example(api: Api) -> None:
    entities = {
        "instance": {
            "endpoint": "192.168.1.203:3306",
            "type": "Cluster",
            "datastore": {"type": "gaussdb-mysql", "version": "8.0"},
        },
        "resource_ids": ["a48e.vm", "a48e.volume"],
    }
    created = api.create_job(instance={"id": "a48e", "name": "DO-NOT-TOUCH"})
    api.clock.advance(hours=6)
    assert api.patch_job(created["id"], status="Completed", entities=entities).status_code == 200
    job = api.get(api.job_path(), params={"id": created["id"]}).json()["job"]
    assert job["status"] == "Completed" and job["process"] == ""
    assert TIME.fullmatch(job["ended"]) and job["ended"] > job["created"]
    assert job["entities"] == entities and job["fail_reason"] == ""


def test_failed_job_shows_its_reason(api: Api) -> None:
    created = api.create_job()
    api.patch_job(created["id"], status="Failed", fail_reason="Server did not start: port 3306 in use")
    job = api.get(api.job_path(), params={"id": created["id"]}).json()["job"]
    assert job["status"] == "Failed" and job["fail_reason"] == "Server did not start: port 3306 in use"


def test_pending_job_has_no_progress(api: Api) -> None:
    created = api.create_job(status="Pending")
    job = api.get(api.job_path(), params={"id": created["id"]}).json()["job"]
    assert job["status"] == "Pending" and job["process"] == "" and job["ended"] == ""


def test_a_job_is_readable_the_moment_it_is_returned(api: Api) -> None:
    for _ in range(30):
        job_id = api.create_job()["id"]
        assert api.get(api.job_path(), params={"id": job_id}).status_code == 200


@pytest.mark.parametrize("params", [{}, {"id": ""}, {"id": "not-a-job"}, {"id": "1" * 36}])
def test_missing_or_malformed_id_is_a_parameter_error(api: Api, params: dict[str, str]) -> None:
    response = api.get(api.job_path(), params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "DBS.200001" and "id" in body["error_msg"]
    assert set(body) == {"error_code", "error_msg"}


def test_unknown_foreign_and_expired_jobs_look_the_same(api: Api) -> None:
    foreign = api.create_job(who="b")
    expired = api.create_job()
    api.patch_job(expired["id"], status="Completed")
    api.clock.advance(days=30, seconds=1)
    bodies = []
    for job_id in (str(uuid.uuid4()), foreign["id"], expired["id"]):
        response = api.get(api.job_path(), params={"id": job_id})
        assert response.status_code == 400
        bodies.append(response.json())
    assert bodies == [NOT_FOUND] * 3


def test_a_job_within_the_month_is_still_visible(api: Api) -> None:
    job = api.create_job()
    api.patch_job(job["id"], status="Completed")
    api.clock.advance(days=29)
    assert api.get(api.job_path(), params={"id": job["id"]}).status_code == 200


def test_chinese_messages_on_request(api: Api) -> None:
    response = api.get(api.job_path(), params={"id": str(uuid.uuid4())}, headers={"X-Language": "zh-cn"})
    assert response.json() == {"error_code": "DBS.200543", "error_msg": "任务不存在。"}
    english = api.get(api.job_path(), params={"id": str(uuid.uuid4())}, headers={"X-Language": "fr-fr"})
    assert english.json() == NOT_FOUND


def test_the_sdk_reads_a_job_signed_with_aksk(api: Api) -> None:
    job = api.create_job()
    response = api.signed("GET", f"{api.job_path()}?id={job['id']}", who="a")
    assert response.status_code == 200 and response.json()["job"]["id"] == job["id"]


def test_polls_at_once_each_get_their_own_answer(api: Api) -> None:
    """Concurrent polls share batched lookups; none may get another poll's job, or see B's."""
    from concurrent.futures import ThreadPoolExecutor

    mine = [api.create_job(name=f"Job{n}") for n in range(12)]
    theirs = api.create_job(who="b")
    asks = [(job["id"], job["name"]) for job in mine] * 8 + [(theirs["id"], None)] * 8

    def poll(ask: tuple[str, str | None]) -> tuple[int, str | None]:
        response = api.get(api.job_path(), params={"id": ask[0]})
        return response.status_code, response.json().get("job", {}).get("name")

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(poll, asks))
    assert answers == [(200, name) if name else (400, None) for _, name in asks]  # DBS.200543


def test_only_get_is_the_poll(api: Api) -> None:
    job = api.create_job()
    wrong = api.http.post(api.job_path(), params={"id": job["id"]}, headers={"X-Auth-Token": api.token("a")})
    assert wrong.status_code == 405 and wrong.json()["error_code"] == "APIGW.0101"
    head = api.http.head(api.job_path(), params={"id": job["id"]}, headers={"X-Auth-Token": api.token("a")})
    assert head.status_code == 200 and head.content == b""
