"""Hostile input answers 400 DBS.200001 naming the field, the same on both stores, never a 5xx."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Api


def _refused(response: object, field: str) -> None:
    assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error_code"] == "DBS.200001" and f"{field}:" in body["error_msg"], body


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"entities": {"a": "\u0000"}}, "entities.a"),
        ({"params": {"x": ["\u0000"]}}, "params.x[0]"),
        ({"instance": {"id": "i\u0000", "name": "n"}}, "instance.id"),
        ({"idempotency_key": "k\u0000"}, "idempotency_key"),
    ],
)
def test_nul_in_a_producer_body_is_refused(api: Api, fields: dict[str, object], field: str) -> None:
    body = {"project_id": api.creds["a"].project_id, "name": "X", **fields}
    _refused(api.signed("POST", "/internal/v1/jobs", json=body), field)


def test_nul_in_a_patch_is_refused_and_changes_nothing(api: Api) -> None:
    job = api.create_job()
    _refused(api.patch_job(job["id"], status="Failed", fail_reason="boom\u0000"), "fail_reason")
    _refused(api.patch_job(job["id"], sub_tasks=[{"name": "s\u0000"}]), "sub_tasks[0].name")
    shown = api.get(api.job_path(), params={"id": job["id"]}).json()["job"]
    assert shown["status"] == "Running"


def test_nul_in_a_token_request_is_refused(api: Api) -> None:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a\u0000"}}}}}
    _refused(api.http.post("/v3/auth/tokens", json=body), "auth.identity.password.user.name")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/immediate-jobs?job_name=%00", "job_name"),
        ("/scheduled-jobs?instance_id=%00", "instance_id"),
        ("/scheduled-jobs?job_name=%00", "job_name"),
        ("/instances/%00", "instance_id"),
        ("/backups?instance_id=%00", "instance_id"),
        ("/immediate-jobs?offset=%C2%B2", "offset"),
        ("/scheduled-jobs?offset=%C2%B2", "offset"),
        ("/instances?offset=%C2%B2", "offset"),
        ("/backups?offset=%C2%B2", "offset"),
    ],
)
def test_hostile_query_and_path_values_are_refused(api: Api, path: str, field: str) -> None:
    _refused(api.get(f"/v3/{api.creds['a'].project_id}{path}"), field)


def test_a_far_start_time_is_refused_and_the_schedule_list_keeps_working(api: Api) -> None:
    body = {"project_id": api.creds["a"].project_id, "name": "X", "start_time": "0001-01-01T00:00:00+0000"}
    _refused(api.signed("POST", "/internal/v1/jobs", json=body), "start_time")
    api.create_job(start_time="2999-01-01T00:00:00+0000")
    listed = api.get(f"/v3/{api.creds['a'].project_id}/scheduled-jobs")
    assert listed.status_code == 200 and listed.json()["total_count"] == 1


def test_deep_entities_are_refused_before_they_are_stored(api: Api) -> None:
    deep = b'{"k":' * 300 + b"1" + b"}" * 300
    raw = b'{"project_id":"' + api.creds["a"].project_id.encode() + b'","name":"X","entities":' + deep + b"}"
    c = api.creds["admin"]
    from tests.support import sign

    date = api.clock.now.strftime("%Y%m%dT%H%M%SZ")
    headers = sign(
        c.access_key, c.secret_key, "POST", api.url + "/internal/v1/jobs", raw, {"X-Sdk-Date": date}
    )
    _refused(api.http.post("/internal/v1/jobs", content=raw, headers=headers), "entities")


def test_offset_zero_lists_the_first_page(api: Api) -> None:
    api.create_job()
    listed = api.get(f"/v3/{api.creds['a'].project_id}/immediate-jobs", params={"offset": "0"})
    assert listed.status_code == 200 and len(listed.json()["jobs"]) == 1


def test_chinese_messages_are_whole(api: Api) -> None:
    response = api.get(
        f"/v3/{api.creds['a'].project_id}/immediate-jobs",
        params={"limit": "7", "start_time": "x"},
        headers={"X-Language": "zh-cn"},
    )
    message = response.json()["error_msg"]
    assert message.startswith("参数错误。") and "must" not in message and "expected" not in message
    assert "limit:" in message and "start_time:" in message


# Two English words in a row: what is left of an untranslated sentence once the identifiers
# (ids, field names followed by ':', status words) that both languages share are set apart.
_ENGLISH = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")


def test_every_error_in_chinese_is_chinese_past_its_prefix(engine_api: Api) -> None:
    """Each answer that once kept an English detail after its Chinese prefix: a credential on
    another project's path, a tenant on the producer API, a body past the cap, the producer's
    own checks, deleting an unfinished job's record, and cancelling a job no worker runs."""
    api = engine_api
    zh = {"X-Language": "zh-cn"}
    tenant = {"X-Auth-Token": api.token("a"), **zh}
    admin = {"X-Auth-Token": api.token("admin"), **zh}
    project, other = api.creds["a"].project_id, api.creds["b"].project_id
    reported = api.create_job(name="ReportedJob")["id"]
    ended = api.create_job(name="EndedJob")["id"]
    assert api.patch_job(ended, status="Completed").status_code == 200
    http = api.http
    worker_job = {"project_id": project, "name": "TestQuiet", "status": "Running"}
    answers = {
        "another project's path": (403, http.get(f"/v3/{other}/immediate-jobs", headers=tenant)),
        "a tenant on the producer API": (403, http.post("/internal/v1/jobs", json={}, headers=tenant)),
        "a body past the cap": (413, http.post("/internal/v1/jobs", content=b" " * (2 << 20), headers=admin)),
        "a status for a worker's job": (400, http.post("/internal/v1/jobs", json=worker_job, headers=admin)),
        "an unknown project": (
            400, http.post("/internal/v1/jobs", json={"project_id": "nope", "name": "X"}, headers=admin)
        ),
        "an unfinished job's record": (400, http.delete(f"/v3/{project}/jobs/{reported}", headers=tenant)),
        "a cancel of a reported job": (400, http.post(f"/internal/v1/jobs/{reported}/cancel", headers=admin)),
        "a cancel of an ended job": (400, http.post(f"/internal/v1/jobs/{ended}/cancel", headers=admin)),
    }  # fmt: skip
    for case, (status, response) in answers.items():
        assert response.status_code == status, (case, response.text)
    untranslated = {
        case: message
        for case, (_, response) in answers.items()
        if _ENGLISH.search(message := response.json()["error_msg"])
    }
    assert untranslated == {}
