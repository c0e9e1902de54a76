"""Cluster-wide duties, run by one node at a time under a leader lease in the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from taskcenter.domain.clock import Clock, system_clock
from taskcenter.engine.worker import worker_id
from taskcenter.ports.engine import EnginePort

log = logging.getLogger("taskcenter.maintenance")
DUTY = "maintenance"
BATCH = 200


@dataclass
class Maintenance:
    """Rescues jobs of lost workers and purges jobs past retention, on the elected leader only."""

    store: EnginePort
    # None in production: the store's clock decides leases and leadership (PostgreSQL's, the
    # same for every node). Tests pin time with one.
    clock: Clock | None
    retention: timedelta
    interval: float = 5.0
    purge_pause: float = 0.05  # between purge batches, so reads never stall behind a purge
    id: str = field(default_factory=worker_id)

    def __post_init__(self) -> None:
        self._stopping = asyncio.Event()
        self.leading = False

    def stop(self) -> None:
        self._stopping.set()

    def _now(self) -> datetime | None:
        return None if self.clock is None else self.clock()

    async def run(self) -> None:
        """Rounds until stop(); then, if leading, step down so another node leads at once."""
        try:
            while not self._stopping.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("maintenance round failed; retrying in %ss", self.interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.interval)
        finally:
            if self.leading:
                await self.resign()

    async def resign(self) -> None:
        try:
            await self.store.resign(DUTY, self.id)
        except Exception:  # its lease runs out instead
            log.exception("%s could not step down as maintenance leader", self.id)
        else:
            log.info("%s stepped down as maintenance leader", self.id)
        self.leading = False

    async def tick(self) -> None:
        """One round: take or renew leadership; if leading, rescue and purge."""
        ttl = timedelta(seconds=self.interval * 3)
        leading = await self.store.try_lead(DUTY, self.id, self._now(), ttl)
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
            jobs = await self.store.rescue_expired(self._now(), BATCH)
            for job in jobs:
                log.warning("rescued job %s (%s): now %s", job.id, job.name, job.status.value)
            total += len(jobs)
            if len(jobs) < BATCH:
                return total

    async def purge(self) -> int:
        total = 0
        while not self._stopping.is_set():
            # Retention is days long: this node's clock is good enough for it.
            now = self._now() or system_clock()
            purged = await self.store.purge_ended(now - self.retention, BATCH)
            total += purged
            if purged < BATCH:
                break
            await asyncio.sleep(self.purge_pause)
        if total:
            log.info("purged %d jobs that ended more than %s ago", total, self.retention)
        return total
