"""Benchmark: 20,000 no-op jobs run to Completed, beside pgqueuer and procrastinate.

Runs, in one go on one machine: taskcenter on SQLite with the embedded worker; taskcenter on
PostgreSQL with 1 and with 2 `taskcenter worker` processes; pgqueuer and procrastinate on the
same PostgreSQL with the same workload (installed from PyPI by this script when missing).
Each system gets a fresh database, all jobs are enqueued first, and the clock runs from the
moment the (idle) workers are handed the work until every job has ended.
Then the pick-up delay while idle: single jobs submitted 20 ms apart to an idle worker.

    .venv/bin/python -m bench.engine_throughput [--jobs 20000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.common import machine
from taskcenter.domain.job import NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.engine.registry import load_registry
from taskcenter.engine.worker import Worker, WorkerConfig
from taskcenter.storage.factory import open_store
from taskcenter.storage.sqlite.store import SqliteStore
from tests.support import create_pg_database, drop_pg_database


def ensure_baselines() -> None:
    missing = [name for name in ("pgqueuer", "procrastinate") if importlib.util.find_spec(name) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)


def noop_rows(count: int, now: datetime) -> list[tuple[object, ...]]:
    return [(uuid.uuid4(), "p1", "TaskcenterNoop", "Pending", now, True, now, 3) for _ in range(count)]


COLUMNS = ["id", "project_id", "name", "status", "created_at", "run_by_worker", "run_at", "max_attempts"]


# --- taskcenter -------------------------------------------------------------------------------


async def taskcenter_sqlite(jobs: int, concurrency: int, work: Path) -> float:
    store = await SqliteStore.open(work / "bench.db")
    now = datetime.now(UTC)
    us = int(now.timestamp() * 1_000_000)
    conn = sqlite3_connect(work / "bench.db")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO jobs (id, project_id, name, status, created_at, run_by_worker, run_at, max_attempts) "
        "VALUES (?,?,?,?,?,1,?,3)",
        ((str(uuid.uuid4()), "p1", "TaskcenterNoop", "Pending", us, us) for _ in range(jobs)),
    )
    conn.execute("COMMIT")
    conn.close()
    worker = Worker(
        store, load_registry([]), lambda: datetime.now(UTC), WorkerConfig(concurrency=concurrency)
    )
    started = time.perf_counter()
    task = asyncio.create_task(worker.run())
    progress = sqlite3_connect(work / "bench.db")
    while True:
        row = progress.execute("SELECT count(*) FROM jobs WHERE status = 'Completed'").fetchone()
        if row[0] == jobs:
            break
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    progress.close()
    worker.stop()
    await task
    await store.close()
    return elapsed


def sqlite3_connect(path: Path):  # type: ignore[no-untyped-def]
    import sqlite3

    return sqlite3.connect(path, isolation_level=None)


async def taskcenter_postgres(jobs: int, concurrency: int, processes: int, work: Path) -> float:
    url = await create_pg_database()
    try:
        await (await open_store(url, work)).close()
        logs = [work / f"worker-{i}.log" for i in range(processes)]
        procs = []
        for log in logs:
            with log.open("w") as out:
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "taskcenter",
                            "worker",
                            "--database-url",
                            url,
                            "--concurrency",
                            str(concurrency),
                            "--log-level",
                            "warning",
                        ],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )  # fmt: skip
                )
        await asyncio.sleep(3)  # let them start and go idle (listening)
        conn = await asyncpg.connect(url)
        try:
            started = time.perf_counter()
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "jobs", records=noop_rows(jobs, datetime.now(UTC)), columns=COLUMNS
                )
                await conn.execute("SELECT pg_notify('taskcenter_jobs', 'bulk')")
            while await conn.fetchval("SELECT count(*) FROM jobs WHERE status = 'Completed'") < jobs:
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - started
        finally:
            await conn.close()
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        return elapsed
    finally:
        await drop_pg_database(url)


async def pickup_delays(samples: int, postgres: bool, work: Path) -> list[float]:
    """Seconds from a job's commit to its claim, with an idle worker waiting."""
    url = await create_pg_database() if postgres else None
    store = await open_store(url, work / "pickup")
    proc = None
    worker_task = None
    try:
        if postgres:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "taskcenter",
                    "worker",
                    "--database-url",
                    str(url),
                    "--log-level",
                    "warning",
                ]
            )
            await asyncio.sleep(3)
        else:
            worker = Worker(store, load_registry([]), lambda: datetime.now(UTC), WorkerConfig())
            worker_task = asyncio.create_task(worker.run())
            await asyncio.sleep(0.5)
        ids = []
        for _ in range(samples):
            new = NewJob("p1", "TaskcenterNoop", status=JobStatus.PENDING, run_by_worker=True, max_attempts=3)
            job, _ = await store.create_job(new, datetime.now(UTC))
            ids.append(job.id)
            await asyncio.sleep(0.02)
        await asyncio.sleep(1)
        delays = []
        for job_id in ids:
            events = await store.job_events(job_id)
            claimed = next(e.at for e in events if e.to_status is JobStatus.RUNNING)
            delays.append((claimed - events[0].at).total_seconds())
        return delays
    finally:
        if worker_task is not None:
            worker.stop()
            await worker_task
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        await store.close()
        if url:
            await drop_pg_database(url)


# --- baselines --------------------------------------------------------------------------------


async def pgqueuer_run(jobs: int, concurrency: int, capped: bool) -> float:
    """pgqueuer in drain mode. ``capped``: at most ``concurrency`` jobs at once, as taskcenter's
    workers are (pgqueuer then needs batches of half that); otherwise its default, batches of
    ``concurrency`` and no cap on jobs in flight."""
    from pgqueuer import AsyncpgDriver, Queries, QueueManager
    from pgqueuer.domain.types import QueueExecutionMode

    url = await create_pg_database()
    try:
        conn = await asyncpg.connect(url)
        driver = AsyncpgDriver(conn)
        await Queries(driver).install()
        await Queries(driver).enqueue(["noop"] * jobs, [None] * jobs, [0] * jobs)
        qm = QueueManager(Queries(driver))

        @qm.entrypoint("noop")  # type: ignore[untyped-decorator]
        async def noop(job: object) -> None:
            return None

        started = time.perf_counter()
        await qm.run(
            batch_size=concurrency // 2 if capped else concurrency,
            max_concurrent_tasks=concurrency if capped else None,
            mode=QueueExecutionMode.drain,
            dequeue_timeout=timedelta(seconds=1),
        )
        elapsed = time.perf_counter() - started
        remaining = await conn.fetchval("SELECT count(*) FROM pgqueuer")
        assert remaining == 0, f"pgqueuer left {remaining} jobs"
        await conn.close()
        return elapsed
    finally:
        await drop_pg_database(url)


async def procrastinate_run(jobs: int, concurrency: int) -> float:
    import procrastinate

    url = await create_pg_database()
    try:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

        @app.task(name="noop")  # type: ignore[untyped-decorator]
        async def noop() -> None:
            return None

        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            for start in range(0, jobs, 1000):
                await noop.batch_defer_async(*([{}] * min(1000, jobs - start)))
            started = time.perf_counter()
            await app.run_worker_async(concurrency=concurrency, wait=False, install_signal_handlers=False)
            elapsed = time.perf_counter() - started
        conn = await asyncpg.connect(url)
        done = await conn.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")
        await conn.close()
        assert done == jobs, f"procrastinate finished {done} of {jobs}"
        return elapsed
    finally:
        await drop_pg_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--pickups", type=int, default=200)
    args = parser.parse_args()
    ensure_baselines()
    os.environ.setdefault("TASKCENTER_LOG_LEVEL", "warning")
    work = Path(tempfile.mkdtemp(prefix="tc-engine-bench-"))
    n, c = args.jobs, args.concurrency
    runs: list[tuple[str, Callable[[], Coroutine[object, object, float]]]] = [
        ("taskcenter, SQLite, embedded worker", lambda: taskcenter_sqlite(n, c, work)),
        ("taskcenter, PostgreSQL, 1 worker process", lambda: taskcenter_postgres(n, c, 1, work)),
        ("taskcenter, PostgreSQL, 2 worker processes", lambda: taskcenter_postgres(n, c, 2, work)),
        ("pgqueuer, PostgreSQL, 1 worker, default (batch c, no cap)", lambda: pgqueuer_run(n, c, False)),
        ("pgqueuer, PostgreSQL, 1 worker, at most c at once (batch c/2)", lambda: pgqueuer_run(n, c, True)),
        ("procrastinate, PostgreSQL, 1 worker", lambda: procrastinate_run(n, c)),
    ]
    results = []
    for label, run in runs:
        elapsed = asyncio.run(run())
        results.append((label, elapsed))
        print(f"{label}: {n / elapsed:,.0f} jobs/s ({elapsed:.1f} s)", flush=True)
    pickups = {}
    for label, postgres in (("SQLite, embedded", False), ("PostgreSQL, worker process", True)):
        delays = sorted(asyncio.run(pickup_delays(args.pickups, postgres, work)))
        pickups[label] = delays
        print(f"pick-up {label}: p50 {statistics.median(delays) * 1000:.1f} ms, "
              f"p99 {delays[int(len(delays) * 0.99) - 1] * 1000:.1f} ms", flush=True)  # fmt: skip

    print(f"\n{n:,} no-op jobs, concurrency {c}; {machine()}; {time.strftime('%Y-%m-%d')}\n")
    print("| system | jobs/s | seconds |")
    print("|---|---|---|")
    for label, elapsed in results:
        print(f"| {label} | {n / elapsed:,.0f} | {elapsed:.1f} |")
    print("\n| pick-up delay while idle | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|")
    for label, delays in pickups.items():
        p50, p99 = statistics.median(delays) * 1000, delays[int(len(delays) * 0.99) - 1] * 1000
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {delays[-1] * 1000:.1f} |")


if __name__ == "__main__":
    main()
