"""Stopping taskcenter never leaves MariaDB servers running unnoticed (a real server; slow)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from taskcenter.mariadb.local import LocalServer
from tests.acceptance.conftest import TASKCENTER, start_service, stop_service
from tests.acceptance.test_instances import _kill, create_request, wait_job
from tests.acceptance.test_official_sdk import sdk_client
from tests.cli.helpers import one_clear_line, taskcenter


def run_worker_until_stopped(data: Path, log: Path) -> str:
    """Start `taskcenter worker`, SIGTERM it once it is up, and return what it logged."""
    with log.open("w") as out:
        worker = subprocess.Popen(
            [*TASKCENTER, "worker", "--data-dir", str(data)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while "SIGTERM stops it gracefully" not in log.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        worker.terminate()
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    return log.read_text()


def test_serve_and_worker_say_how_many_servers_keep_running_and_stop_all_stops_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    service = start_service(data, {"TASKCENTER_ADMIN_PASSWORD": "admin-secret-1"})
    try:
        client = sdk_client(service, service.project("acme"))
        created = client.create_gauss_my_sql_instance(create_request("stop-all-db"))
        wait_job(client, created.job_id)
    finally:
        stop_service(service)
    server = LocalServer(data / "instances" / created.instance.id)
    try:
        pid = server.pid()
        assert pid is not None  # detached by design: it outlives serve
        said = service.log.read_text()
        assert "1 MariaDB instance server keeps running" in said
        assert f"taskcenter instances stop-all --data-dir {data}" in said

        worker_said = run_worker_until_stopped(data, tmp_path / "worker.log")
        assert "1 MariaDB instance server keeps running" in worker_said
        assert server.pid() == pid  # the worker adopted it, did not restart it

        stopped = taskcenter("instances", "stop-all", "--data-dir", data)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout == f"stopped 1 MariaDB instance server under {data / 'instances'}\n"
        assert server.pid() is None
        assert (
            not os.path.exists(f"/proc/{pid}/cmdline")
            or b"mariadbd" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        )

        again = taskcenter("instances", "stop-all", "--data-dir", data)
        assert again.stdout.startswith("stopped 0 MariaDB instance servers")
    finally:
        _kill(server.pidfile)


def test_stop_all_refuses_a_data_dir_that_does_not_exist(tmp_path: Path) -> None:
    result = taskcenter("instances", "stop-all", "--data-dir", tmp_path / "typo")
    assert result.returncode == 1
    assert "there is no data directory at" in one_clear_line(result.stderr)
