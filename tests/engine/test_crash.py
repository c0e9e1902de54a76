"""Crash safety with real processes and real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from taskcenter.domain.job import Job, NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.engine.registry import load_registry
from taskcenter.storage.factory import open_store

REGISTRY = load_registry(["tests.engine.handlers"])
ENGINE_FLAGS = ["--handlers", "tests.engine.handlers", "--lease-seconds", "2", "--check-seconds", "0.5"]


class Workers:
    """Starts `taskcenter worker` processes on one database and cleans up after them."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "taskcenter", "worker", *ENGINE_FLAGS, *extra],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "TASKCENTER_DATABASE_URL": self.database_url},
        )  # fmt: skip
        log.close()
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture
def workers(pg_url: str, tmp_path: Path) -> Iterator[Workers]:
    asyncio.run(_migrate(pg_url))
    pool = Workers(pg_url, tmp_path)
    yield pool
    pool.stop_all()


async def _migrate(url: str) -> None:
    await (await open_store(url, Path("."))).close()


def submit(url: str, name: str, **params: Any) -> str:
    async def run() -> str:
        store = await open_store(url, Path("."))
        try:
            handler = REGISTRY.get(name)
            assert handler is not None
            new = NewJob("p1", name, status=JobStatus.PENDING, run_by_worker=True,
                         max_attempts=handler.attempts, params=params)  # fmt: skip
            job, _ = await store.create_job(new, datetime.now(UTC))
            return job.id
        finally:
            await store.close()

    return asyncio.run(run())


def find(url: str, job_id: str) -> tuple[Job, list[Any]]:
    async def run() -> tuple[Job, list[Any]]:
        store = await open_store(url, Path("."))
        try:
            job = await store.find_job(job_id)
            assert job is not None
            return job, await store.job_events(job_id)
        finally:
            await store.close()

    return asyncio.run(run())


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_sigkilled_worker_jobs_are_rescued_by_their_retry_rule(workers: Workers) -> None:
    url = workers.database_url
    safe = submit(url, "TestSlowRetrySafe", seconds=3)
    unsafe = submit(url, "TestSlowUnsafe", seconds=3)
    doomed = workers.start()
    for job_id in (safe, unsafe):
        wait_until(lambda job_id=job_id: find(url, job_id)[0].status is JobStatus.RUNNING, 20, "a claim")  # type: ignore[misc]
    assert f":{doomed.pid}:" in (find(url, safe)[0].lease_owner or "")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    killed_at = time.monotonic()

    workers.start()
    wait_until(lambda: find(url, unsafe)[0].status is JobStatus.FAILED, 30, "the unsafe job to fail")
    # Rescued within lease (2 s) + check interval (0.5 s) + one maintenance leader hand-over.
    assert time.monotonic() - killed_at < 15
    failed, _ = find(url, unsafe)
    assert f":{doomed.pid}:" in failed.fail_reason and "not safe to retry" in failed.fail_reason

    wait_until(lambda: find(url, safe)[0].status is JobStatus.COMPLETED, 30, "the retry to complete")
    done, events = find(url, safe)
    assert done.attempt == 2
    details = [e.detail for e in events]
    assert any("was lost" in d and "retry 2 of 3" in d for d in details), details


def test_sigterm_finishes_what_it_can_and_hands_back_the_rest(workers: Workers) -> None:
    url = workers.database_url
    quick = submit(url, "TestSlowRetrySafe", seconds=0.5)
    slow_safe = submit(url, "TestSlowRetrySafe", seconds=60)
    slow_unsafe = submit(url, "TestSlowUnsafe", seconds=60)
    worker = workers.start("--grace-seconds", "2")
    for job_id in (quick, slow_safe, slow_unsafe):
        wait_until(lambda job_id=job_id: find(url, job_id)[0].status is not JobStatus.PENDING, 20, "claims")  # type: ignore[misc]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(20) == 0
    assert find(url, quick)[0].status is JobStatus.COMPLETED  # finished within the grace period
    handed_back, _ = find(url, slow_safe)
    assert handed_back.status is JobStatus.PENDING and handed_back.lease_owner is None
    failed, _ = find(url, slow_unsafe)
    assert failed.status is JobStatus.FAILED and "was stopped before the job finished" in failed.fail_reason


def test_many_workers_under_contention_run_every_job_exactly_once(workers: Workers) -> None:
    url = workers.database_url

    async def setup() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("CREATE TABLE probe_runs (job_id UUID PRIMARY KEY, attempt INT NOT NULL)")
        await conn.close()

    asyncio.run(setup())
    for _ in range(3):
        workers.start("--concurrency", "8")
    job_ids = [submit(url, "ContentionProbe", seconds=0.01) for _ in range(150)]

    async def finished() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM jobs WHERE status <> 'Pending' AND status <> 'Running'"
                )
            )
        finally:
            await conn.close()

    wait_until(lambda: asyncio.run(finished()) == len(job_ids), 60, "every job to end")

    async def check() -> None:
        conn = await asyncpg.connect(url)
        try:
            statuses = await conn.fetch("SELECT status, count(*) FROM jobs GROUP BY status")
            assert {r[0]: r[1] for r in statuses} == {"Completed": len(job_ids)}
            assert await conn.fetchval("SELECT count(*) FROM probe_runs") == len(job_ids)
            claims = await conn.fetch(
                "SELECT job_id, count(*) FROM job_events WHERE to_status = 'Running' GROUP BY job_id"
            )
            assert len(claims) == len(job_ids) and all(r[1] == 1 for r in claims)
            owners = await conn.fetchval(
                "SELECT count(DISTINCT split_part(detail, ' ', 3)) FROM job_events "
                "WHERE to_status = 'Running'"
            )
            assert owners >= 2  # the work was shared
        finally:
            await conn.close()

    asyncio.run(check())
