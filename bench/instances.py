"""Benchmark: time from request to Completed for TaurusDB instance operations on real MariaDB.

Median create time alone and with 5 creates at once; backup and restore of a 100 MB database.
Everything goes through the official SDK against a `taskcenter serve` process (SQLite store,
embedded worker), polling the job every 50 ms, as a client would.

    .venv/bin/python -m bench.instances [--megabytes 100]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from huaweicloudsdkgaussdb.v3 import (
    CreateGaussMySqlBackupRequest,
    DeleteGaussMySqlInstanceRequest,
    MysqlCreateBackupRequest,
    MysqlRestorePoint,
    ShowGaussMySqlJobInfoRequest,
)

from bench.common import machine
from tests.acceptance.conftest import start_service, stop_service
from tests.acceptance.test_instances import connect, create_request, endpoint_of
from tests.acceptance.test_official_sdk import sdk_client


def until_done(client, job_id: str, started: float) -> float:  # type: ignore[no-untyped-def]
    while True:
        job = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job_id)).job
        if job.status == "Completed":
            return time.perf_counter() - started
        if job.status == "Failed":
            raise RuntimeError(job.fail_reason)
        time.sleep(0.05)


def create(client, name: str, restore: MysqlRestorePoint | None = None) -> tuple[float, str, str]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    answer = client.create_gauss_my_sql_instance(create_request(name, restore))
    elapsed = until_done(client, answer.job_id, started)
    job = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=answer.job_id))
    return elapsed, answer.instance.id, endpoint_of(job)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--alone", type=int, default=3, help="sequential creates for the 'alone' median")
    parser.add_argument("--repeat", type=int, default=3, help="backups and restores for their medians")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tc-instances-bench-"))
    service = start_service(
        work / "data", {"TASKCENTER_ADMIN_PASSWORD": "bench-admin-1", "TASKCENTER_LOG_LEVEL": "warning"}
    )
    instances: list[str] = []
    try:
        client = sdk_client(service, service.project("bench"))
        alone = []
        for i in range(args.alone):
            elapsed, instance_id, _ = create(client, f"alone-{i}")
            alone.append(elapsed)
            instances.append(instance_id)
        with ThreadPoolExecutor(5) as pool:
            together = list(pool.map(lambda i: create(client, f"together-{i}"), range(5)))
        instances += [t[1] for t in together]

        _, source_id, endpoint = create(client, "big-source")
        instances.append(source_id)
        row = "x" * 1000
        with connect(endpoint) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE big")
            cur.execute("CREATE TABLE big.rows (id INT PRIMARY KEY, payload VARCHAR(1000)) ENGINE=InnoDB")
            rows = args.megabytes * 1000
            for start in range(0, rows, 1000):
                cur.executemany(
                    "INSERT INTO big.rows VALUES (%s, %s)", [(i, row) for i in range(start, start + 1000)]
                )
            cur.execute("SELECT count(*) FROM big.rows")
            counted = cur.fetchone()
            assert counted is not None
            count = counted[0]
        backup_times, restore_times = [], []
        for run in range(args.repeat):
            started = time.perf_counter()
            answer = client.create_gauss_my_sql_backup(
                CreateGaussMySqlBackupRequest(
                    body=MysqlCreateBackupRequest(instance_id=source_id, name=f"big-backup-{run}")
                )
            )
            backup_times.append(until_done(client, answer.job_id, started))
            restore = MysqlRestorePoint(
                source_instance_id=source_id, type="backup", backup_id=answer.backup.id
            )
            restore_time, copy_id, copy_endpoint = create(client, f"big-copy-{run}", restore)
            restore_times.append(restore_time)
            instances.append(copy_id)
            with connect(copy_endpoint) as conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM big.rows")
                assert cur.fetchone() == (count,)
        dump_mb = (work / "data" / "backups" / f"{answer.backup.id}.sql").stat().st_size / 1e6

        print(f"\n{machine()}; MariaDB servers from Debian packages; {time.strftime('%Y-%m-%d')}\n")
        print("| operation | median s | all runs (s) |")
        print("|---|---|---|")
        print(f"| create, alone | {statistics.median(alone):.2f} | {', '.join(f'{t:.2f}' for t in alone)} |")
        times = [t[0] for t in together]
        print(
            f"| create, 5 at once | {statistics.median(times):.2f} | {', '.join(f'{t:.2f}' for t in times)} |"
        )
        label = f"backup of {count:,} rows ({args.megabytes} MB of row data, dump {dump_mb:.0f} MB)"
        runs = ", ".join(f"{t:.2f}" for t in backup_times)
        print(f"| {label} | {statistics.median(backup_times):.2f} | {runs} |")
        print(
            f"| restore of that backup into a new instance | {statistics.median(restore_times):.2f} | "
            f"{', '.join(f'{t:.2f}' for t in restore_times)} |"
        )
        for instance_id in instances:
            client.delete_gauss_my_sql_instance(DeleteGaussMySqlInstanceRequest(instance_id=instance_id))
        time.sleep(3)
    finally:
        stop_service(service)
        for pidfile in (work / "data" / "instances").glob("*/mysqld.pid"):
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pidfile.read_text()), signal.SIGKILL)


if __name__ == "__main__":
    main()
