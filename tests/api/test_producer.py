"""The producer API: admin-only job creation and guarded, all-or-nothing updates."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import Api


def test_tenant_credentials_cannot_produce(api: Api) -> None:
    body = {"project_id": api.creds["a"].project_id, "name": "X"}
    response = api.signed("POST", "/internal/v1/jobs", who="a", json=body)
    assert response.status_code == 403 and response.json()["error_code"] == "DBS.200010"


def test_create_answers_201_with_the_public_job(api: Api) -> None:
    body = {
        "project_id": api.creds["a"].project_id,
        "name": "RebootGaussDBforMySQLInstance",
        "instance": {"id": "i-1", "name": "db"},
        "entities": {"k": "v"},
    }
    response = api.signed("POST", "/internal/v1/jobs", json=body)
    assert response.status_code == 201
    payload = response.json()
    assert payload["project_id"] == api.creds["a"].project_id
    assert payload["job"]["status"] == "Running" and payload["job"]["process"] == "0%"
    assert payload["job"]["entities"] == {"k": "v"}


def test_idempotency_key_returns_the_first_job(api: Api) -> None:
    first = api.create_job(idempotency_key="create-db-1")
    again = api.signed(
        "POST",
        "/internal/v1/jobs",
        json={"project_id": api.creds["a"].project_id, "name": "Other", "idempotency_key": "create-db-1"},
    )
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["job"] == first
    listing = api.get(f"/v3/{api.creds['a'].project_id}/immediate-jobs").json()
    assert listing["total_count"] == 1


def test_unknown_project_is_a_parameter_error(api: Api) -> None:
    response = api.signed("POST", "/internal/v1/jobs", json={"project_id": "nope", "name": "X"})
    assert response.status_code == 400 and "project_id" in response.json()["error_msg"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X"}, "project_id"),
        ({"project_id": "p", "name": "X", "status": "Completed"}, "status"),
        ({"project_id": "p", "name": "X", "entities": "text"}, "entities"),
    ],
)
def test_bad_create_bodies_name_the_field(api: Api, body: dict[str, object], field: str) -> None:
    response = api.signed("POST", "/internal/v1/jobs", json=body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "DBS.200001" and field in response.json()["error_msg"]


def test_non_json_body_is_400(api: Api) -> None:
    c = api.creds["admin"]
    from tests.support import sign

    url = f"{api.url}/internal/v1/jobs"
    headers = sign(c.access_key, c.secret_key, "POST", url, b"not json")
    response = api.http.post(url, content=b"not json", headers=headers)
    assert response.status_code == 400 and "JSON" in response.json()["error_msg"]


def test_patch_reports_progress_and_sub_tasks(api: Api) -> None:
    job = api.create_job()
    subs = [
        {"name": "create data dir", "percent": 100, "status": "Completed", "remaining_time": 0},
        {"name": "start server", "percent": 30, "status": "Running", "remaining_time": 20},
    ]
    response = api.patch_job(job["id"], process="45%", sub_tasks=subs)
    assert response.status_code == 200
    assert response.json()["job"]["process"] == "45%" and response.json()["sub_tasks"] == subs


def test_illegal_transition_is_409_and_changes_nothing(api: Api) -> None:
    job = api.create_job()
    assert api.patch_job(job["id"], status="Completed").status_code == 200
    response = api.patch_job(job["id"], status="Running")
    assert response.status_code == 409
    assert "Completed" in response.json()["error_msg"]
    assert api.patch_job(job["id"], process=10).status_code == 409
    shown = api.get(api.job_path(), params={"id": job["id"]}).json()["job"]
    assert shown["status"] == "Completed"


def test_pending_cannot_jump_to_completed(api: Api) -> None:
    job = api.create_job(status="Pending")
    assert api.patch_job(job["id"], status="Completed").status_code == 409


def test_a_bad_patch_writes_nothing(api: Api) -> None:
    job = api.create_job()
    response = api.patch_job(job["id"], status="Failed", sub_tasks=[{"name": "x", "status": "Bogus"}])
    assert response.status_code == 400 and "sub_tasks[0].status" in response.json()["error_msg"]
    shown = api.get(api.job_path(), params={"id": job["id"]}).json()["job"]
    assert shown["status"] == "Running"


def test_patch_unknown_job(api: Api) -> None:
    response = api.patch_job(str(uuid.uuid4()), process=5)
    assert response.status_code == 400 and response.json()["error_code"] == "DBS.200543"


def test_history_records_every_status_change(api: Api) -> None:
    job = api.create_job(status="Pending")
    api.patch_job(job["id"], status="Running")
    api.patch_job(job["id"], process=50)
    api.patch_job(job["id"], status="Failed", fail_reason="no space left on device")
    shown = api.signed("GET", f"/internal/v1/jobs/{job['id']}").json()
    assert [(e["from_status"], e["to_status"]) for e in shown["events"]] == [
        (None, "Pending"),
        ("Pending", "Running"),
        ("Running", "Failed"),
    ]


def test_oversized_body_is_refused(api: Api) -> None:
    body = {"project_id": api.creds["a"].project_id, "name": "X", "entities": {"blob": "x" * 2_000_000}}
    response = api.signed("POST", "/internal/v1/jobs", json=body)
    assert response.status_code == 413 and response.json()["error_code"] == "DBS.200001"
