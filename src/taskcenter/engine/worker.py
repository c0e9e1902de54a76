"""A worker: claims due jobs, runs their handlers under a renewed lease, and ends them.

One asyncio task per running job, so a slow handler never blocks the API sharing the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from taskcenter.domain.clock import Clock
from taskcenter.domain.errors import LeaseLost
from taskcenter.domain.job import Job
from taskcenter.domain.runs import DEFAULT_LEASE, Claim, Ending, Outcome
from taskcenter.engine.context import JobContext
from taskcenter.engine.errors import Cancelled, PermanentFailure
from taskcenter.engine.registry import Registry
from taskcenter.ports.engine import EnginePort

log = logging.getLogger("taskcenter.worker")


class InvalidConfig(ValueError):
    """A worker setting out of its range: says which, the range, and the value given."""

    def __init__(self, setting: str, value: float, low: float, high: float, unit: str) -> None:
        self.setting = setting
        self.range = f"from {low:g} to {high:g}{unit}"
        self.value = value
        super().__init__(self.naming(setting))

    def naming(self, name: str) -> str:
        """The message, with the setting called ``name`` (a command line calls it by its flag)."""
        return f"{name} must be {self.range}, not {self.value:g}"


# Each setting's allowed range. A zero lease would renew it in a loop without pause; a zero
# interval would poll the store or run maintenance rounds without pause; a negative grace or
# concurrency means nothing. The upper ends keep a typo (seconds given as milliseconds) from
# leaving a lost worker's jobs unrescued for days.
_LIMITS: dict[str, tuple[float, float, str]] = {
    "concurrency": (1, 1000, " jobs"),
    "lease": (0.5, 86400, " seconds"),
    "poll_interval": (0.01, 3600, " seconds"),
    "grace": (0, 86400, " seconds"),
    "maintenance_interval": (0.1, 3600, " seconds"),
}


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """A worker's settings, checked when made: out of range, it raises InvalidConfig."""

    concurrency: int = 10
    lease: timedelta = DEFAULT_LEASE
    poll_interval: float = 0.25  # seconds between looks for due jobs when not notified
    grace: float = 30.0  # seconds running jobs get to finish after SIGTERM
    maintenance_interval: float = 5.0  # seconds between rescue/purge rounds (leader only)

    def __post_init__(self) -> None:
        for setting, (low, high, unit) in _LIMITS.items():
            value = getattr(self, setting)
            number = value.total_seconds() if isinstance(value, timedelta) else float(value)
            if not low <= number <= high:  # NaN fails too
                raise InvalidConfig(setting, number, low, high, unit)

    @property
    def heartbeat(self) -> float:
        return self.lease.total_seconds() / 3


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


@dataclass
class _Run:
    job: Job
    claim: Claim
    context: JobContext
    task: asyncio.Task[None]
    lost: bool = False


@dataclass
class Worker:
    store: EnginePort
    registry: Registry
    # None in production: the store's clock decides leases (PostgreSQL's, the same for every
    # node). Tests pin time with one.
    clock: Clock | None = None
    config: WorkerConfig = field(default_factory=WorkerConfig)
    id: str = field(default_factory=worker_id)
    resources: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._runs: dict[str, _Run] = {}  # jobs whose handler runs: each holds a slot
        self._tasks: set[asyncio.Task[None]] = set()  # all job tasks, ends still being written too
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._endings: asyncio.Queue[tuple[Outcome, asyncio.Future[Job | None]]] = asyncio.Queue()

    def _now(self) -> datetime | None:
        return None if self.clock is None else self.clock()

    def notify(self) -> None:
        """A job may be due: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming; running jobs get the grace period, then are handed back."""
        self._stopping.set()
        self._wake.set()

    @property
    def running(self) -> int:
        return len(self._runs)

    async def run(self) -> None:
        log.info(
            "worker %s started: concurrency %d, lease %ss, handlers %s",
            self.id, self.config.concurrency, self.config.lease.total_seconds(),
            ", ".join(self.registry.names()),
        )  # fmt: skip
        unlisten = await self.store.listen(self.notify)
        heartbeats = asyncio.create_task(self._heartbeats(), name="heartbeats")
        endings = asyncio.create_task(self._write_endings(), name="endings")
        try:
            while not self._stopping.is_set():
                # Cleared before looking, not after: a job notified while the claim runs (and
                # missed by it) leaves the wake set, so the wait below returns at once.
                self._wake.clear()
                claimed = await self.claim_once()
                if claimed and self.running < self.config.concurrency:
                    continue  # there may be more due jobs right now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)
            await self._drain()
        finally:
            for task in (heartbeats, endings):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await unlisten()
            log.info("worker %s stopped", self.id)

    async def claim_once(self) -> int:
        """Claim as many due jobs as there are free slots, and start them. Returns how many."""
        free = self.config.concurrency - self.running
        if free <= 0:
            return 0
        try:
            jobs = await self.store.claim_jobs(self.id, free, self._now(), self.config.lease)
        except Exception:
            log.exception("worker %s could not claim jobs; retrying", self.id)
            await asyncio.sleep(self.config.poll_interval)
            return 0
        for job in jobs:
            self._start(job)
        return len(jobs)

    def _start(self, job: Job) -> None:
        claim = Claim(job.id, self.id, job.attempt)
        context = JobContext(job, claim, self.store, self.clock, self.resources)
        task = asyncio.create_task(self._execute(job, claim, context), name=f"job-{job.id}")
        self._runs[job.id] = _Run(job, claim, context, task)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._finished(job.id))

    def _finished(self, job_id: str) -> None:
        self._runs.pop(job_id, None)
        self._wake.set()  # a slot is free

    async def _execute(self, job: Job, claim: Claim, context: JobContext) -> None:
        handler = self.registry.get(job.name)
        retry_safe = handler is not None and handler.retry_safe
        log.info("job %s (%s) attempt %d started on %s", job.id, job.name, claim.attempt, self.id)
        ending, error = Ending.RETURNED, ""
        try:
            if handler is None:
                raise PermanentFailure(f"No handler for {job.name} on worker {self.id}.")
            await handler.run(context)
        except asyncio.CancelledError:
            raise  # shutdown or a lost lease: _drain or the heartbeat decides what happens
        except LeaseLost:
            log.warning("job %s: worker %s lost its lease; leaving the job alone", job.id, self.id)
            return
        except Cancelled:
            ending = Ending.STOPPED
        except PermanentFailure as exc:
            ending, error = Ending.GAVE_UP, str(exc)
        except Exception as exc:
            ending, error = Ending.RAISED, f"{type(exc).__name__}: {exc}"
            log.warning("job %s attempt %d failed", job.id, claim.attempt, exc_info=True)
        # The handler is done: free its slot now, so the next claim overlaps this write.
        self._finished(job.id)
        ended = await self._end(Outcome(claim, ending, error, retry_safe))
        if ended is not None:
            log.info("job %s is now %s", job.id, ended.status.value)

    async def _end(self, outcome: Outcome) -> Job | None:
        """Queue the run's end for the next batch write, and wait for it."""
        done: asyncio.Future[Job | None] = asyncio.get_running_loop().create_future()
        self._endings.put_nowait((outcome, done))
        ended = await done
        if ended is None:
            log.warning("job %s: worker %s lost its lease before ending it", outcome.claim.job_id, self.id)
        return ended

    async def _write_endings(self) -> None:
        """Write ends in batches: whatever queued while the previous batch was being written.

        An idle worker writes a lone end at once; a busy one amortises the transaction (and on
        SQLite the fsync) over many jobs.
        """
        while True:
            batch = [await self._endings.get()]
            while not self._endings.empty() and len(batch) < 500:
                batch.append(self._endings.get_nowait())
            try:
                results = await self.store.finish_many([o for o, _ in batch], self._now())
            except Exception as exc:
                log.exception("worker %s could not record %d job ends", self.id, len(batch))
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), ended in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(ended)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat)
            await self.heartbeat_once()

    async def heartbeat_once(self) -> None:
        """Renew the leases of running jobs; stop those lost, pass on cancel requests."""
        runs = dict(self._runs)
        if not runs:
            return
        try:
            status = await self.store.renew_leases(self.id, list(runs), self._now(), self.config.lease)
        except Exception:
            log.exception("worker %s could not renew its leases", self.id)
            return
        for job_id, run in runs.items():
            if job_id not in status.held:
                log.warning("job %s: lease lost by %s; stopping its handler", job_id, self.id)
                run.lost = True
                run.task.cancel()
            elif job_id in status.cancel_requested and not run.context.cancel_requested:
                log.info("job %s: cancel requested", job_id)
                run.context.mark_cancel_requested()

    async def _drain(self) -> None:
        """After stop(): wait up to the grace period, then end what still runs as interrupted
        (the domain hands back what is safe to run again, and fails the rest)."""
        if self._runs:
            log.info("worker %s stopping: %d jobs get %ss to finish", self.id, self.running,
                     self.config.grace)  # fmt: skip
            await asyncio.wait([r.task for r in self._runs.values()], timeout=self.config.grace)
        for run in list(self._runs.values()):
            run.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run.task
            handler = self.registry.get(run.job.name)
            retry_safe = handler is not None and handler.retry_safe
            await self._end(Outcome(run.claim, Ending.INTERRUPTED, retry_safe=retry_safe))
        if self._tasks:
            await asyncio.wait(set(self._tasks))  # handlers that finished, their ends being written
