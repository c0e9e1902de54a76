"""Workers in this process against real stores: running, retrying, cancelling, stopping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg
import pytest

from taskcenter.domain.clock import system_clock
from taskcenter.domain.job import Job, NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.engine.maintenance import Maintenance
from taskcenter.engine.registry import load_registry
from taskcenter.engine.runner import engine_running
from taskcenter.engine.worker import Worker, WorkerConfig
from taskcenter.ports import Store
from taskcenter.storage.postgres.store import PostgresStore
from tests.engine.handlers import quiet_runs
from tests.storage.test_listen import Server
from tests.support import PG_ADMIN_URL, PinnedClock

REGISTRY = load_registry(["tests.engine.handlers"])
FAST = WorkerConfig(concurrency=4, lease=timedelta(seconds=0.6), poll_interval=0.05, grace=0.3)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def submit(store: Store, name: str, **params: object) -> Job:
    handler = REGISTRY.get(name)
    assert handler is not None
    new = NewJob("p1", name, status=JobStatus.PENDING, run_by_worker=True, max_attempts=handler.attempts,
                 params=dict(params))  # fmt: skip
    job, _ = await store.create_job(new, system_clock())
    return job


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def status_of(store: Store, job_id: str) -> JobStatus:
    job = await store.find_job(job_id)
    assert job is not None
    return job.status


@contextlib.asynccontextmanager
async def running(store: Store, config: WorkerConfig = FAST) -> AsyncIterator[Worker]:
    worker = Worker(store, REGISTRY, None, config)  # as in production: the store's clock
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)


async def test_jobs_run_to_completion_once_each(store: Store) -> None:
    jobs = [await submit(store, "TaskcenterNoop") for _ in range(20)]
    async with running(store):
        for job in jobs:
            await until(lambda job=job: _is(store, job.id, JobStatus.COMPLETED))  # type: ignore[misc]
    for job in jobs:
        events = await store.job_events(job.id)
        assert [e.to_status for e in events] == [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.COMPLETED]


async def test_progress_and_sub_tasks_are_reported(store: Store) -> None:
    job = await submit(store, "TaskcenterSleep", seconds=0.3)
    async with running(store):
        await until(lambda: _is(store, job.id, JobStatus.COMPLETED))
    done = await store.find_job(job.id)
    assert done is not None and done.progress == 100
    assert [(s.name, s.percent, s.status) for s in done.sub_tasks] == [("sleep", 100, "Completed")]


async def test_failing_retry_safe_handler_is_retried_then_fails(store: Store) -> None:
    job = await submit(store, "TestAlwaysFails")
    async with running(store):
        await until(lambda: _is(store, job.id, JobStatus.FAILED), timeout=15)
    failed = await store.find_job(job.id)
    assert failed is not None and failed.attempt == 2
    assert failed.fail_reason == "RuntimeError: boom on attempt 2"
    statuses = [e.to_status for e in await store.job_events(job.id)]
    assert statuses.count(JobStatus.RUNNING) == 2


async def test_permanent_failure_is_not_retried(store: Store) -> None:
    job = await submit(store, "TestPermanent")
    async with running(store):
        await until(lambda: _is(store, job.id, JobStatus.FAILED))
    failed = await store.find_job(job.id)
    assert (
        failed is not None and failed.attempt == 1 and "apt-get install mariadb-server" in failed.fail_reason
    )


async def test_cancelling_a_running_job_stops_its_handler(store: Store) -> None:
    job = await submit(store, "TestSlowRetrySafe", seconds=30)
    async with running(store):
        await until(lambda: _is(store, job.id, JobStatus.RUNNING))
        await store.request_cancel("p1", [job.id], system_clock(), LONG_AGO)
        await until(lambda: _is(store, job.id, JobStatus.CANCELED), timeout=5)


async def test_a_handler_that_finishes_after_a_cancel_is_not_completed(store: Store) -> None:
    job = await submit(store, "TestIgnoresCancel")
    async with running(store):
        await until(lambda: _is(store, job.id, JobStatus.RUNNING))
        await store.request_cancel("p1", [job.id], system_clock(), LONG_AGO)
        await until(lambda: _ended(store, job.id))
    assert await status_of(store, job.id) is JobStatus.CANCELED


async def test_stop_hands_back_retry_safe_jobs_and_fails_the_others(store: Store) -> None:
    safe = await submit(store, "TestSlowRetrySafe", seconds=30)
    unsafe = await submit(store, "TestSlowUnsafe", seconds=30)
    async with running(store) as worker:
        await until(lambda: _is(store, safe.id, JobStatus.RUNNING))
        await until(lambda: _is(store, unsafe.id, JobStatus.RUNNING))
        worker.stop()
    handed_back = await store.find_job(safe.id)
    assert handed_back is not None and handed_back.status is JobStatus.PENDING
    assert handed_back.lease_owner is None
    failed = await store.find_job(unsafe.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert "was stopped before the job finished" in failed.fail_reason


async def rescue_by_a_clock_an_hour_ahead(store: Store) -> Job:
    """The running job, rescued; a rescue skips a row the worker has locked for a moment."""
    rescued: list[Job] = []

    async def done() -> bool:
        rescued.extend(await store.rescue_expired(system_clock() + timedelta(hours=1), 10))
        return bool(rescued)

    await until(done)
    [job] = rescued
    assert job.status is JobStatus.PENDING
    return job


async def test_a_worker_that_lost_its_lease_stops_and_changes_nothing(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # A long lease, so no heartbeat comes to stop the handler: only the fence on its writes
    # protects the job. The handler writes progress every 0.1 s.
    slow_heartbeat = WorkerConfig(concurrency=4, lease=timedelta(seconds=30), poll_interval=0.05, grace=0.3)
    job = await submit(store, "TestSlowRetrySafe", seconds=2)
    async with running(store, slow_heartbeat) as worker:
        await until(lambda: _is(store, job.id, JobStatus.RUNNING))
        # Another node decided this worker was dead (its clock ran ahead) and rescued the job.
        rescued = await rescue_by_a_clock_an_hour_ahead(store)

        async def handler_gave_up() -> bool:
            return worker.running == 0 and any("leaving the job alone" in m for m in caplog.messages)

        await until(handler_gave_up, timeout=5)  # its next write was refused
        assert await store.find_job(job.id) == rescued  # the old worker wrote nothing more
    assert await store.find_job(job.id) == rescued  # nor did its stop


async def test_a_handler_whose_lease_was_lost_is_stopped_by_the_heartbeat(store: Store) -> None:
    """The handler writes nothing, so no fence stops it: the heartbeat finds the job taken away
    and cancels the handler's task, long before it would have ended and written."""
    job = await submit(store, "TestQuiet", seconds=30)
    async with running(store) as worker:  # a 0.6 s lease: a heartbeat every 0.2 s
        await until(lambda: _is(store, job.id, JobStatus.RUNNING))
        rescued = await rescue_by_a_clock_an_hour_ahead(store)

        async def handler_cancelled() -> bool:
            return quiet_runs.get(job.id) == "cancelled" and worker.running == 0

        await until(handler_cancelled, timeout=5)
        assert await store.find_job(job.id) == rescued
    assert await store.find_job(job.id) == rescued
    assert [e.to_status for e in await store.job_events(job.id)][-1] is JobStatus.PENDING


async def test_a_cancel_reaches_a_handler_that_writes_nothing_through_the_heartbeat(store: Store) -> None:
    job = await submit(store, "TestQuiet", seconds=30)
    async with running(store):
        await until(lambda: _is(store, job.id, JobStatus.RUNNING))
        await store.request_cancel("p1", [job.id], system_clock(), LONG_AGO)
        await until(lambda: _is(store, job.id, JobStatus.CANCELED), timeout=5)
    assert quiet_runs[job.id] == "stopped on a cancel request"
    assert (await store.job_events(job.id))[-1].detail == "the handler stopped on a cancel request"


class JobArrivesDuringAClaim:
    """The real store, except that one job is created while the worker's claim is in flight,
    after its query found nothing: the job's notification comes before the claim returns."""

    def __init__(self, store: Store, new: NewJob) -> None:
        self._store = store
        self._new: NewJob | None = new
        self.created: Job | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def claim_jobs(self, worker: str, limit: int, now: datetime, lease: timedelta) -> list[Job]:
        claimed = await self._store.claim_jobs(worker, limit, now, lease)
        if self._new is not None and not claimed:
            self.created, _ = await self._store.create_job(self._new, system_clock())
            self._new = None
        return claimed


async def test_a_job_notified_while_the_worker_claims_is_not_left_to_the_next_poll(store: Store) -> None:
    new = NewJob("p1", "TaskcenterNoop", status=JobStatus.PENDING, run_by_worker=True, max_attempts=1)
    racing = JobArrivesDuringAClaim(store, new)
    rare_polls = WorkerConfig(concurrency=4, lease=timedelta(seconds=30), poll_interval=60, grace=0.3)
    async with running(cast(Store, racing), rare_polls):
        await until(lambda: _created(racing))
        assert racing.created is not None
        await until(lambda: _is(store, racing.created.id, JobStatus.COMPLETED), timeout=5)  # type: ignore[union-attr]


async def _created(racing: JobArrivesDuringAClaim) -> bool:
    return racing.created is not None


async def test_a_postgres_worker_is_notified_again_after_its_listen_connection_is_killed(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="taskcenter")
    admin = await asyncpg.connect(PG_ADMIN_URL)
    server = Server(admin, urlsplit(pg_url).path.lstrip("/"))
    store = await PostgresStore.open(pg_url)
    # Polls a minute apart: within the deadlines below only a notification gets a job picked up.
    rare_polls = WorkerConfig(concurrency=4, lease=timedelta(seconds=30), poll_interval=60, grace=0.3)
    try:
        async with engine_running(store, REGISTRY, system_clock, timedelta(days=30), rare_polls):
            killed = await server.the_listener()
            await server.kill(killed)
            await server.the_listener(other_than=killed)
            # The restore wakes the worker once; the second job can only be found by its notification.
            for _ in range(2):
                job = await submit(store, "TaskcenterNoop")
                await until(lambda job=job: _is(store, job.id, JobStatus.COMPLETED), timeout=5)  # type: ignore[misc]
    finally:
        await store.close()
        await admin.close()
    assert len([m for m in caplog.messages if "LISTEN connection to PostgreSQL was lost" in m]) == 1
    assert len([m for m in caplog.messages if "LISTEN connection to PostgreSQL is restored" in m]) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # the stop included


async def test_maintenance_runs_on_one_leader_and_rescues(store: Store) -> None:
    job = await submit(store, "TestSlowUnsafe")
    clock = PinnedClock(system_clock() + timedelta(seconds=1))
    assert await store.claim_jobs("dead-worker", 1, clock(), timedelta(seconds=5))
    first = Maintenance(store, clock, timedelta(days=30), id="node-a")
    second = Maintenance(store, clock, timedelta(days=30), id="node-b")
    await first.tick()
    await second.tick()
    assert first.leading and not second.leading
    assert await status_of(store, job.id) is JobStatus.RUNNING  # lease not expired yet
    clock.advance(seconds=10)
    await second.tick()  # the lease expired, but node-b is not the leader: it does nothing
    assert await status_of(store, job.id) is JobStatus.RUNNING
    await first.tick()
    rescued = await store.find_job(job.id)
    assert rescued is not None and rescued.status is JobStatus.FAILED
    assert "dead-worker" in rescued.fail_reason
    assert not second.leading
    clock.advance(seconds=60)  # node-a is gone: its leadership expires and node-b takes over
    await second.tick()
    assert second.leading


async def test_maintenance_purges_past_retention(store: Store) -> None:
    clock = PinnedClock()
    jobs = [await submit(store, "TaskcenterNoop") for _ in range(3)]
    async with running(store):
        for job in jobs:
            await until(lambda job=job: _is(store, job.id, JobStatus.COMPLETED))  # type: ignore[misc]
    maintenance = Maintenance(store, clock, timedelta(days=30))
    await maintenance.tick()
    assert all([await store.find_job(j.id) for j in jobs])
    clock.advance(days=31)
    await maintenance.tick()
    assert not any([await store.find_job(j.id) for j in jobs])


async def _is(store: Store, job_id: str, status: JobStatus) -> bool:
    return await status_of(store, job_id) is status


async def _ended(store: Store, job_id: str) -> bool:
    return (await status_of(store, job_id)).is_final


async def test_stopping_a_busy_worker_leaves_nothing_running(store: Store) -> None:
    jobs = [await submit(store, "TaskcenterNoop") for _ in range(200)]
    async with running(store) as worker:
        await until(lambda: _is(store, jobs[0].id, JobStatus.COMPLETED))
        worker.stop()
    statuses = {await status_of(store, job.id) for job in jobs}
    assert JobStatus.RUNNING not in statuses
    assert statuses <= {JobStatus.COMPLETED, JobStatus.PENDING}
