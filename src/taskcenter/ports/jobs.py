"""The task center's jobs: what producers create and report, and what the API shows and lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from taskcenter.domain.job import Job, JobEvent, JobPatch, NewJob
from taskcenter.domain.requests import JobFilter, Page, ScheduleFilter


@dataclass(frozen=True, slots=True)
class JobListing:
    jobs: list[Job]
    total_count: int
    action_names: list[str]  # every job name the project has used (for the console's filter)


class JobsPort(Protocol):
    """Jobs as the task center shows them.

    ``visible_since`` is the retention cut-off: a job that ended before it does not exist for
    readers. ``now`` is always passed in, so tests pin time without sleeping.
    """

    async def create_job(self, new: NewJob, now: datetime) -> tuple[Job, bool]:
        """Insert the job, or return the one already holding its idempotency key (created=False).

        Raises InstanceBusy for an ``exclusive`` job while its instance has an unfinished job.
        """
        ...

    async def get_job(self, project_id: str, job_id: str, visible_since: datetime) -> Job | None: ...

    async def show_job(self, project_id: str, job_id: str, visible_since: datetime) -> bytes | None:
        """The body of GET /v3/{project_id}/jobs?id=, ``{"job": job_info(job)}`` as JSON, or None
        for an unknown, foreign or expired job alike.

        Rendered by the store from the job's columns, not through a Job: that route is most of a
        task center's traffic, and building a Job and its JSON in Python measured as costly as
        the rest of the request.
        """
        ...

    async def find_job(self, job_id: str) -> Job | None:
        """A job of any project, retention ignored: for producers and maintenance only."""
        ...

    async def update_job(self, job_id: str, patch: JobPatch, now: datetime) -> Job:
        """Apply the patch as one guarded transaction with its event row.

        Raises JobNotFound, IllegalTransition, InvalidParameter or JobConflict.
        """
        ...

    async def list_jobs(
        self, project_id: str, where: JobFilter, page: Page, visible_since: datetime
    ) -> JobListing: ...

    async def delete_job(self, project_id: str, job_id: str, visible_since: datetime) -> None:
        """Delete a finished job's record. Raises JobNotFound or JobNotFinished."""
        ...

    async def job_events(self, job_id: str) -> list[JobEvent]: ...

    async def request_cancel(
        self, project_id: str, job_ids: list[str], now: datetime, visible_since: datetime
    ) -> list[str]:
        """Cancel Pending jobs, ask workers to stop Running ones; all or nothing.

        Raises JobNotFound or JobNotCancelable naming the first job that cannot be cancelled.
        """
        ...

    async def list_scheduled(
        self, project_id: str, where: ScheduleFilter, offset: int, limit: int, visible_since: datetime
    ) -> tuple[list[Job], int]: ...
