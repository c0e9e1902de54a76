from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

TASKCENTER = [sys.executable, "-m", "taskcenter"]


@dataclass
class Service:
    """A real `taskcenter serve` process, as a user starts it."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path
    database_url: str | None = None

    def project(self, name: str) -> dict[str, str]:
        store = ["--database-url", self.database_url] if self.database_url else []
        out = subprocess.run(
            [*TASKCENTER, "project", "create", name, "--data-dir", str(self.data_dir), *store],
            check=True,
            capture_output=True,
            text=True,
        )
        result: dict[str, str] = json.loads(out.stdout)
        return result


def start_service(
    data_dir: Path,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    database_url: str | None = None,
) -> Service:
    port = free_port()
    if database_url:
        args = (*args, "--database-url", database_url)
    log = data_dir.parent / f"serve-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [*TASKCENTER, "serve", "--port", str(port), "--data-dir", str(data_dir), *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"taskcenter serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return Service(url, data_dir, process, log, database_url)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"taskcenter serve did not start: {log.read_text()}")


def stop_service(service: Service) -> None:
    service.process.terminate()
    try:
        service.process.wait(10)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = start_service(tmp_path / "data", {"TASKCENTER_ADMIN_PASSWORD": "admin-secret-1"})
    yield svc
    stop_service(svc)
