"""What a handler sees: its job, and a way to report progress and notice a cancel."""

from __future__ import annotations

from typing import Any

from taskcenter.domain.clock import Clock
from taskcenter.domain.job import Instance, Job, JobPatch, SubTask
from taskcenter.domain.runs import Claim
from taskcenter.engine.errors import Cancelled
from taskcenter.ports.engine import EnginePort


class JobContext:
    """Progress, sub-tasks, entities and the instance, written fenced by the worker's claim.

    A write after the claim was lost (the job was rescued elsewhere) raises LeaseLost, which
    stops the handler: a worker that lost its job can no longer change it.
    """

    def __init__(
        self,
        job: Job,
        claim: Claim,
        store: EnginePort,
        clock: Clock | None,
        resources: dict[str, Any] | None = None,
    ) -> None:
        self.job = job
        # What the process gives its handlers (e.g. the MariaDB instance service).
        self.resources = resources or {}
        self._claim = claim
        self._store = store
        self._clock = clock
        self._cancel_requested = job.cancel_requested
        self._sub_tasks: dict[str, SubTask] = {s.name: s for s in job.sub_tasks}

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def attempt(self) -> int:
        return self._claim.attempt

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def check_cancelled(self) -> None:
        if self._cancel_requested:
            raise Cancelled()

    def mark_cancel_requested(self) -> None:
        """The worker's heartbeat saw a cancel request: ``check_cancelled`` raises from now on."""
        self._cancel_requested = True

    async def _write(self, patch: JobPatch) -> None:
        now = None if self._clock is None else self._clock()
        self.job = await self._store.report(self._claim, patch, now)
        self._cancel_requested = self._cancel_requested or self.job.cancel_requested

    async def progress(self, percent: int) -> None:
        await self._write(JobPatch(progress=max(0, min(100, percent))))

    async def sub_task(
        self, name: str, percent: int, status: str = "Running", remaining_time: int | None = None
    ) -> None:
        """Add or update one sub-task (kept in the order first reported)."""
        self._sub_tasks[name] = SubTask(name, max(0, min(100, percent)), status, remaining_time)
        await self._write(JobPatch(sub_tasks=tuple(self._sub_tasks.values())))

    async def entities(self, entities: dict[str, Any]) -> None:
        await self._write(JobPatch(entities=entities))

    async def instance(self, instance_id: str, name: str) -> None:
        await self._write(JobPatch(instance=Instance(instance_id, name)))
