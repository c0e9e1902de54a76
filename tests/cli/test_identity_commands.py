"""project list/delete, user reset-password and admin credentials rotate, as the operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx

from taskcenter.domain.job import JobPatch, NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.storage.sqlite.store import SqliteStore
from tests.acceptance.conftest import Service, start_service, stop_service
from tests.acceptance.test_official_sdk import admin_credentials
from tests.cli.helpers import one_clear_line, taskcenter
from tests.cli.test_cli import token
from tests.support import sign


def create(data: Path, name: str) -> dict[str, str]:
    result = taskcenter("project", "create", name, "--data-dir", data)
    assert result.returncode == 0, result.stderr
    created: dict[str, str] = json.loads(result.stdout)
    return created


def signed_get(service: Service, creds: dict[str, str]) -> httpx.Response:
    url = f"{service.url}/v3/{creds['project_id']}/immediate-jobs"
    return httpx.get(url, headers=sign(creds["access_key"], creds["secret_key"], "GET", url))


def with_token(service: Service, project_id: str, subject_token: str) -> httpx.Response:
    return httpx.get(f"{service.url}/v3/{project_id}/immediate-jobs", headers={"X-Auth-Token": subject_token})


def test_project_list_as_a_table_and_as_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, second = create(data, "zeta"), create(data, "alpha")

    listed = taskcenter("project", "list", "--data-dir", data, "--format", "json")
    assert listed.returncode == 0
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["name"], r["users"]) for r in rows] == [
        (first["project_id"], "zeta", ["zeta"]),
        (second["project_id"], "alpha", ["alpha"]),
    ]
    assert all(len(r["created"]) == 20 and r["created"].endswith("Z") for r in rows)

    table = taskcenter("project", "list", "--data-dir", data).stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "USERS", "CREATED"]
    assert table[1].split()[:3] == [first["project_id"], "zeta", "zeta"]


def test_reading_commands_do_not_create_a_store_in_the_wrong_place(tmp_path: Path) -> None:
    for command in (["project", "list"], ["project", "delete", "x"], ["user", "reset-password", "x"],
                    ["admin", "credentials", "rotate"]):  # fmt: skip
        result = taskcenter(*command, "--data-dir", tmp_path / "typo")
        assert result.returncode == 1
        assert "there is no store at" in one_clear_line(result.stderr)
    assert not (tmp_path / "typo").exists()


async def test_project_delete_is_refused_while_a_job_runs_then_removes_the_project(tmp_path: Path) -> None:
    data = tmp_path / "data"
    team, other = create(data, "team"), create(data, "other")
    store = await SqliteStore.open(data / "taskcenter.db")
    try:
        job, _ = await store.create_job(
            NewJob(team["project_id"], "CreateGaussDBforMySQLInstance"), datetime.now(UTC)
        )
    finally:
        await store.close()

    refused = taskcenter("project", "delete", "team", "--data-dir", data)
    assert refused.returncode == 1
    assert "'team' still has 0 instances not deleted and 1 unfinished job" in one_clear_line(refused.stderr)

    store = await SqliteStore.open(data / "taskcenter.db")
    try:
        await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), datetime.now(UTC))
    finally:
        await store.close()
    deleted = taskcenter("project", "delete", "team", "--data-dir", data)
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted project 'team'" in deleted.stdout and "60 s" in deleted.stderr
    names = [
        p["name"]
        for p in json.loads(taskcenter("project", "list", "--data-dir", data, "--format", "json").stdout)
    ]
    assert names == ["other"]

    again = taskcenter("project", "delete", "team", "--data-dir", data)
    assert again.returncode == 1 and "no project named 'team'" in one_clear_line(again.stderr)
    assert create(data, "team")["name"] == "team"  # the name is free again
    assert other["name"] == "other"


def test_user_reset_password_revokes_the_users_tokens(tmp_path: Path) -> None:
    data = tmp_path / "data"
    team = create(data, "team")
    service = start_service(data)
    try:
        old_password = team["password"]
        issued = token(service.url, "team", old_password)
        assert issued.status_code == 201
        # Not used yet, so no node has it in its credential cache (which would honour it for up to 60 s).
        old_token = issued.headers["X-Subject-Token"]

        result = taskcenter("user", "reset-password", "team", "--data-dir", data)
        assert result.returncode == 0, result.stderr
        printed = json.loads(result.stdout)
        assert printed["user"] == "team" and printed["password"] != old_password
        assert "up to 60 s" in result.stderr

        assert with_token(service, team["project_id"], old_token).status_code == 401
        assert token(service.url, "team", old_password).status_code == 401
        assert token(service.url, "team", printed["password"]).status_code == 201
        assert signed_get(service, team).status_code == 200  # the access key stays
    finally:
        stop_service(service)

    unknown = taskcenter("user", "reset-password", "nobody", "--data-dir", data)
    assert unknown.returncode == 1 and "no user named 'nobody'" in one_clear_line(unknown.stderr)


def test_admin_credentials_rotate_recovers_lost_admin_secrets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    service = start_service(data, {"TASKCENTER_ADMIN_PASSWORD": "first-admin-pw"})
    try:
        old = admin_credentials(service)
        admin_project = json.loads(
            taskcenter("project", "list", "--data-dir", data, "--format", "json").stdout
        )[0]
        old = {**old, "project_id": admin_project["id"]}
        old_token = token(service.url, "admin", "first-admin-pw").headers["X-Subject-Token"]
        assert "admin credentials rotate" in service.log.read_text()  # the first start says how to recover

        result = taskcenter("admin", "credentials", "rotate", "--data-dir", data)
        assert result.returncode == 0, result.stderr
        new = json.loads(result.stdout)
        assert set(new) == {"project_id", "name", "user", "password", "access_key", "secret_key"}
        assert new["user"] == "admin" and new["project_id"] == admin_project["id"]
        assert new["access_key"] != old["access_key"]
        assert "up to 60 s" in result.stderr

        assert signed_get(service, old).status_code == 401
        assert signed_get(service, new).status_code == 200
        assert with_token(service, new["project_id"], old_token).status_code == 401
        assert token(service.url, "admin", "first-admin-pw").status_code == 401
        assert token(service.url, "admin", new["password"]).status_code == 201
    finally:
        stop_service(service)

    refused = taskcenter("project", "delete", "admin", "--data-dir", data)
    assert refused.returncode == 1 and "cannot be deleted" in one_clear_line(refused.stderr)
