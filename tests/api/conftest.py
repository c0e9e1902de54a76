from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskcenter.domain.clock import system_clock
from taskcenter.engine.registry import load_registry
from taskcenter.engine.worker import WorkerConfig
from taskcenter.identity.accounts import Credentials, bootstrap_admin, create_project
from taskcenter.ports import Store
from taskcenter.storage.factory import open_store
from taskcenter.wiring import http_app
from tests.support import PinnedClock, ServerThread, sign


@dataclass
class Api:
    """A running taskcenter with an admin and two tenant projects, A and B."""

    url: str
    clock: Any
    creds: dict[str, Credentials]
    database_url: str
    http: httpx.Client = field(init=False)
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def token(self, who: str) -> str:
        if who not in self.tokens:
            c = self.creds[who]
            body = {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"name": c.user, "password": c.password}},
                    },
                    "scope": {"project": {"id": c.project_id}},
                }
            }
            response = self.http.post("/v3/auth/tokens", json=body)
            assert response.status_code == 201, response.text
            self.tokens[who] = response.headers["X-Subject-Token"]
        return self.tokens[who]

    def get(self, path: str, who: str = "a", **kw: Any) -> httpx.Response:
        headers = {"X-Auth-Token": self.token(who), **kw.pop("headers", {})}
        return self.http.get(path, headers=headers, **kw)

    def signed(self, method: str, path: str, who: str = "admin", json: Any = None) -> httpx.Response:
        import orjson

        body = orjson.dumps(json) if json is not None else b""
        c = self.creds[who]
        # Signed at the server's (pinned) time, so tests that move the clock stay within 15 min.
        date = self.clock.now.strftime("%Y%m%dT%H%M%SZ")
        headers = sign(c.access_key, c.secret_key, method, self.url + path, body, {"X-Sdk-Date": date})
        return self.http.request(method, path, content=body or None, headers=headers)

    def create_job(self, who: str = "a", **fields: Any) -> dict[str, Any]:
        body = {"project_id": self.creds[who].project_id, "name": "CreateGaussDBforMySQLInstance"}
        body.update(fields)
        response = self.signed("POST", "/internal/v1/jobs", json=body)
        assert response.status_code == 201, response.text
        job: dict[str, Any] = response.json()["job"]
        return job

    def patch_job(self, job_id: str, **fields: Any) -> httpx.Response:
        return self.signed("PATCH", f"/internal/v1/jobs/{job_id}", json=fields)

    def job_path(self, who: str = "a") -> str:
        return f"/v3/{self.creds[who].project_id}/jobs"


def _start(
    database_url: str, tmp_path: Path, clock: Any = None, engine: bool = False
) -> tuple[ServerThread, Any, dict[str, Credentials]]:
    clock = clock or PinnedClock()
    creds: dict[str, Credentials] = {}

    async def on_ready(store: Store) -> None:
        admin = await bootstrap_admin(store, "admin-password")
        assert admin is not None
        creds["admin"] = admin
        creds["a"] = await create_project(store, "tenant-a")
        creds["b"] = await create_project(store, "tenant-b")

    registry = load_registry(["tests.engine.handlers"]) if engine else None
    config = WorkerConfig(concurrency=4, lease=timedelta(seconds=1), poll_interval=0.05, grace=0.2)
    app = http_app(
        lambda: open_store(database_url, tmp_path),
        clock=clock,
        on_ready=on_ready,
        registry=registry,
        engine=config if engine else None,
    )
    return ServerThread(app), clock, creds


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    server, clock, creds = _start(database_url, tmp_path)
    with server:
        client = Api(server.url, clock, creds, database_url)
        yield client
        client.http.close()


@pytest.fixture
def engine_api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """A server with the embedded worker running the test handlers, on the real clock."""
    server, clock, creds = _start(database_url, tmp_path, clock=RealClock(), engine=True)
    with server:
        client = Api(server.url, clock, creds, database_url)
        yield client
        client.http.close()


class RealClock:
    """The system clock, with the PinnedClock interface the Api helper reads."""

    @property
    def now(self) -> datetime:
        return system_clock()

    def __call__(self) -> datetime:
        return system_clock()


@pytest.fixture
def pg_api(pg_url: str, tmp_path: Path) -> Iterator[Api]:
    server, clock, creds = _start(pg_url, tmp_path)
    with server:
        client = Api(server.url, clock, creds, pg_url)
        yield client
        client.http.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)
