"""The taskcenter command as a user runs it: first start, admin password, project create."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.acceptance.conftest import TASKCENTER, start_service, stop_service


def token(url: str, user: str, password: str) -> httpx.Response:
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": user, "password": password}}}
        }
    }
    return httpx.post(f"{url}/v3/auth/tokens", json=body)


def test_first_start_prints_admin_credentials_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_service(data)
    stop_service(first)
    printed = first.log.read_text()
    assert "admin account created" in printed
    for key in ("project_id", "user", "password", "access_key", "secret_key"):
        assert key in printed
    password = printed.split("password")[1].split()[0]
    assert (data / "taskcenter.db").exists()

    second = start_service(data)
    try:
        assert "admin account created" not in second.log.read_text()
        response = token(second.url, "admin", password)
        assert response.status_code == 201
        assert response.json()["token"]["roles"] == [{"id": "admin", "name": "admin"}]
    finally:
        stop_service(second)


def test_admin_password_from_the_environment(tmp_path: Path) -> None:
    service = start_service(tmp_path / "data", {"TASKCENTER_ADMIN_PASSWORD": "S3cret-from-env"})
    try:
        assert "S3cret-from-env" not in service.log.read_text()
        assert token(service.url, "admin", "S3cret-from-env").status_code == 201
        assert token(service.url, "admin", "guess").status_code == 401
    finally:
        stop_service(service)


def test_project_create_prints_one_json_object(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = subprocess.run(
        [*TASKCENTER, "project", "create", "team-1", "--data-dir", str(data)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    created = json.loads(out.stdout)
    assert set(created) == {"project_id", "name", "user", "password", "access_key", "secret_key"}
    assert created["name"] == "team-1" and len(created["project_id"]) == 32
    again = subprocess.run(
        [*TASKCENTER, "project", "create", "team-1", "--data-dir", str(data)], capture_output=True, text=True
    )
    assert again.returncode == 1 and "already exists" in again.stderr and again.stdout == ""

    service = start_service(data)
    try:
        response = token(service.url, created["user"], created["password"])
        assert response.status_code == 201
        assert response.json()["token"]["project"]["id"] == created["project_id"]
    finally:
        stop_service(service)


def test_serve_and_project_create_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    env = {"TASKCENTER_DATABASE_URL": pg_url, "TASKCENTER_ADMIN_PASSWORD": "pg-admin-pw"}
    service = start_service(tmp_path / "data", env)
    try:
        out = subprocess.run(
            [*TASKCENTER, "project", "create", "pg-team", "--database-url", pg_url],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        created = json.loads(out.stdout)
        assert token(service.url, "pg-team", created["password"]).status_code == 201
        assert token(service.url, "admin", "pg-admin-pw").status_code == 201
    finally:
        stop_service(service)
    assert not (tmp_path / "data" / "taskcenter.db").exists()


def test_bad_database_url_fails_clearly(tmp_path: Path) -> None:
    result = subprocess.run(
        [*TASKCENTER, "project", "create", "x", "--database-url", "mysql://nope"],
        capture_output=True,
        text=True,
    )
    # 2: a usage error (the README's exit codes), as for a bad option.
    assert result.returncode == 2 and "unsupported database URL" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_database_url_the_poll_lookups_cannot_use_fails_at_start(pg_url: str) -> None:
    result = subprocess.run(
        [*TASKCENTER, "project", "create", "x", "--database-url", f"{pg_url}?search_path=public"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "cannot open the store" in result.stderr and "search_path" in result.stderr
    assert "Traceback" not in result.stderr
