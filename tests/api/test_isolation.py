"""A project never learns that another project's instances exist, and an instance runs one
operation at a time: over HTTP, on both stores (no MariaDB needed: no worker runs the jobs)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskcenter.domain.instance import DbInstance, InstanceStatus
from taskcenter.engine.registry import load_registry
from taskcenter.identity.accounts import Credentials, bootstrap_admin, create_project
from taskcenter.ports import Store
from taskcenter.storage.factory import open_store
from taskcenter.wiring import http_app
from tests.api.conftest import Api
from tests.support import PinnedClock, ServerThread

NOT_FOUND = {"error_code": "DBS.200045", "error_msg": "The DB instance does not exist."}


@dataclass
class Tenants:
    api: Api
    instance_id: str  # project A's, normal

    def call(self, method: str, who: str, instance_id: str, action: str = "") -> httpx.Response:
        path = f"/v3/{self.api.creds[who].project_id}/instances/{instance_id}{action}"
        return self.api.http.request(method, path, headers={"X-Auth-Token": self.api.token(who)})

    def jobs(self, who: str) -> list[dict[str, Any]]:
        path = f"/v3/{self.api.creds[who].project_id}/immediate-jobs"
        jobs: list[dict[str, Any]] = self.api.get(path, who).json()["jobs"]
        return jobs


@pytest.fixture
def tenants(database_url: str, tmp_path: Path) -> Iterator[Tenants]:
    """Projects A and B; A holds one normal instance. The TaurusDB operations' handlers are
    known, so their jobs are created, but no worker runs them: they stay unfinished."""
    clock = PinnedClock()
    creds: dict[str, Credentials] = {}
    instance_id = uuid.uuid4().hex + "in07"

    async def on_ready(store: Store) -> None:
        admin = await bootstrap_admin(store, "admin-password")
        assert admin is not None
        creds["admin"] = admin
        creds["a"] = await create_project(store, "tenant-a")
        creds["b"] = await create_project(store, "tenant-b")
        await store.create_instance(
            DbInstance(
                instance_id, creds["a"].project_id, "db-of-a", InstanceStatus.NORMAL,
                "gaussdb.mysql.small.x86.2", clock(), clock(), port=3306,
            )
        )  # fmt: skip

    app = http_app(
        lambda: open_store(database_url, tmp_path), clock=clock, on_ready=on_ready, registry=load_registry([])
    )
    with ServerThread(app) as server:
        api = Api(server.url, clock, creds, database_url)
        yield Tenants(api, instance_id)
        api.http.close()


def test_another_projects_instance_is_answered_as_an_unknown_one(tenants: Tenants) -> None:
    unknown = uuid.uuid4().hex + "in07"
    for method, action in (("GET", ""), ("DELETE", ""), ("POST", "/restart")):
        foreign = tenants.call(method, "b", tenants.instance_id, action)
        missing = tenants.call(method, "b", unknown, action)
        assert (foreign.status_code, foreign.json()) == (404, NOT_FOUND), (method, action)
        assert (missing.status_code, missing.json()) == (404, NOT_FOUND), (method, action)
    assert tenants.jobs("b") == [] and tenants.jobs("a") == []  # B's attempts changed nothing
    shown = tenants.call("GET", "a", tenants.instance_id)
    assert shown.status_code == 200 and shown.json()["instance"]["id"] == tenants.instance_id


def test_an_instance_runs_one_operation_at_a_time(tenants: Tenants) -> None:
    restarted = tenants.call("POST", "a", tenants.instance_id, "/restart")
    assert restarted.status_code == 202, restarted.text
    busy = {
        "error_code": "DBS.200019",
        "error_msg": "Another operation is being performed on the DB instance. Try again later.",
    }
    for method, action in (("POST", "/restart"), ("DELETE", "")):
        refused = tenants.call(method, "a", tenants.instance_id, action)
        assert (refused.status_code, refused.json()) == (409, busy), (method, action)
    assert [job["job_id"] for job in tenants.jobs("a")] == [restarted.json()["job_id"]]
