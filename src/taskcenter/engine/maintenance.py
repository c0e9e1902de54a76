"""Cluster-wide duties, run by one node at a time under a leader lease in the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from taskcenter.domain.clock import Clock
from taskcenter.engine.worker import worker_id
from taskcenter.ports.engine import EnginePort

log = logging.getLogger("taskcenter.maintenance")
DUTY = "maintenance"
BATCH = 200


@dataclass
class Maintenance:
    """Rescues jobs of lost workers and purges jobs past retention, on the elected leader only."""

    store: EnginePort
    clock: Clock
    retention: timedelta
    interval: float = 5.0
    purge_pause: float = 0.05  # between purge batches, so reads never stall behind a purge
    id: str = field(default_factory=worker_id)

    def __post_init__(self) -> None:
        self._stopping = asyncio.Event()
        self.leading = False

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("maintenance round failed; retrying in %ss", self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def tick(self) -> None:
        """One round: take or renew leadership; if leading, rescue and purge."""
        ttl = timedelta(seconds=self.interval * 3)
        leading = await self.store.try_lead(DUTY, self.id, self.clock(), ttl)
        if leading != self.leading:
            log.info("%s %s maintenance leader", self.id, "is now" if leading else "is no longer")
            self.leading = leading
        if not leading:
            return
        await self.rescue()
        await self.purge()

    async def rescue(self) -> int:
        total = 0
        while True:
            jobs = await self.store.rescue_expired(self.clock(), BATCH)
            for job in jobs:
                log.warning("rescued job %s (%s): now %s", job.id, job.name, job.status.value)
            total += len(jobs)
            if len(jobs) < BATCH:
                return total

    async def purge(self) -> int:
        total = 0
        while not self._stopping.is_set():
            purged = await self.store.purge_ended(self.clock() - self.retention, BATCH)
            total += purged
            if purged < BATCH:
                break
            await asyncio.sleep(self.purge_pause)
        if total:
            log.info("purged %d jobs that ended more than %s ago", total, self.retention)
        return total
