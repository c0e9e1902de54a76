"""The job engine's storage: claims, leases, outcomes, rescue, retention and leadership.

Every write by a worker is fenced by its Claim (job, worker, attempt).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from taskcenter.domain.engine import Claim, Outcome
from taskcenter.domain.job import Job, JobPatch


@dataclass(frozen=True, slots=True)
class LeaseStatus:
    """After a heartbeat: the jobs the worker still holds, and those asked to stop."""

    held: frozenset[str]
    cancel_requested: frozenset[str]


class EnginePort(Protocol):
    async def claim_jobs(self, worker: str, limit: int, now: datetime, lease: timedelta) -> list[Job]:
        """Atomically move up to ``limit`` due Pending jobs run by workers to Running under a lease."""
        ...

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime, lease: timedelta
    ) -> LeaseStatus: ...

    async def report(self, claim: Claim, patch: JobPatch, now: datetime) -> Job:
        """Progress, sub-tasks, entities or instance from a handler. Raises LeaseLost."""
        ...

    async def finish_many(self, outcomes: list[Outcome], now: datetime) -> list[Job | None]:
        """End runs, in one transaction; None for each whose claim was lost.

        Completed becomes Canceled where a cancel was accepted. Batched because ending jobs
        one transaction at a time is what limits a worker's throughput.
        """
        ...

    async def release(self, claim: Claim, run_at: datetime, now: datetime, detail: str) -> Job:
        """Hand the job back (Pending at ``run_at``) for another run. Raises LeaseLost."""
        ...

    async def rescue_expired(self, now: datetime, limit: int) -> list[Job]:
        """Retry, fail or cancel Running jobs whose lease expired; the jobs as they are now."""
        ...

    async def purge_ended(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` jobs (and their events) that ended before ``before``."""
        ...

    async def try_lead(self, duty: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the leadership of ``duty``; False while someone else holds it."""
        ...

    async def listen(self, callback: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """Call ``callback`` when a job run by workers may have become due; returns the
        unsubscriber.

        PostgreSQL: LISTEN/NOTIFY, across nodes. SQLite: within this process only.
        """
        ...
