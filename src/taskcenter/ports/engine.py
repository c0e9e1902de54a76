"""The job engine's storage: claims, leases, outcomes, rescue, retention and leadership.

Every write by a worker is fenced by its Claim (job, worker, attempt). Every change to a job is
decided by domain.moves (through domain.runs) and applied as decided. ``now`` is given by tests
to pin time; workers and maintenance pass None, and then the store's clock decides leases and
leadership (PostgreSQL's, one for every node; SQLite's single node's own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from taskcenter.domain.job import Job, JobPatch
from taskcenter.domain.runs import Claim, Outcome


@dataclass(frozen=True, slots=True)
class LeaseStatus:
    """After a heartbeat: the jobs the worker still holds, and those asked to stop."""

    held: frozenset[str]
    cancel_requested: frozenset[str]


class EnginePort(Protocol):
    async def claim_jobs(self, worker: str, limit: int, now: datetime | None, lease: timedelta) -> list[Job]:
        """Atomically move up to ``limit`` due Pending jobs run by workers to Running under a lease."""
        ...

    async def renew_leases(
        self, worker: str, job_ids: list[str], now: datetime | None, lease: timedelta
    ) -> LeaseStatus: ...

    async def report(self, claim: Claim, patch: JobPatch, now: datetime | None) -> Job:
        """Progress, sub-tasks, entities or instance from a handler. Raises LeaseLost."""
        ...

    async def finish_many(self, outcomes: list[Outcome], now: datetime | None) -> list[Job | None]:
        """End runs as domain.runs.ended decides, in one transaction; None for each whose claim
        was lost. A retried or handed-back job is Pending again, and listeners are told.

        Batched because ending jobs one transaction at a time is what limits a worker's throughput.
        """
        ...

    async def rescue_expired(self, now: datetime | None, limit: int) -> list[Job]:
        """Retry, fail or cancel Running jobs whose lease expired; the jobs as they are now."""
        ...

    async def purge_ended(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` jobs (and their events) that ended before ``before``."""
        ...

    async def try_lead(self, duty: str, owner: str, now: datetime | None, ttl: timedelta) -> bool:
        """Take or renew the leadership of ``duty``; False while someone else holds it."""
        ...

    async def resign(self, duty: str, owner: str) -> None:
        """Give up the leadership of ``duty`` if ``owner`` holds it, so another takes it at once."""
        ...

    async def listen(self, callback: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """Call ``callback`` when a job run by workers may have become due; returns the
        unsubscriber.

        PostgreSQL: LISTEN/NOTIFY, across nodes. SQLite: within this process only.
        """
        ...
