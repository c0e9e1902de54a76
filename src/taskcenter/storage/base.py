"""The storage interface every engine implements, and is tested against by one contract suite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from taskcenter.domain.job import Job, JobEvent, JobPatch, NewJob
from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User
from taskcenter.domain.requests import JobFilter, Page


@dataclass(frozen=True, slots=True)
class JobListing:
    jobs: list[Job]
    total_count: int
    action_names: list[str]


class Store(Protocol):
    """Durable jobs and identities.

    ``visible_since`` is the retention cut-off: a job that ended before it does not exist for
    readers. ``now`` is always passed in, so tests pin time without sleeping.
    """

    dialect: str

    async def close(self) -> None: ...

    # Jobs
    async def create_job(self, new: NewJob, now: datetime) -> tuple[Job, bool]:
        """Insert the job, or return the one already holding its idempotency key (created=False)."""
        ...

    async def get_job(self, project_id: str, job_id: str, visible_since: datetime) -> Job | None: ...

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

    # Identity
    async def create_identity(self, project: Project, user: User, key: AccessKey) -> bool:
        """Create a project with its first user and access key, all or nothing.

        False when the project or user name is taken.
        """
        ...

    async def has_users(self) -> bool: ...

    async def get_user_by_name(self, name: str) -> User | None: ...

    async def get_project(self, project_id: str) -> Project | None: ...

    async def get_project_by_name(self, name: str) -> Project | None: ...

    async def get_access_key(self, access_key: str) -> tuple[AccessKey, Principal] | None: ...

    async def save_token(self, token: IssuedToken) -> None: ...

    async def get_token(self, token_hash: str) -> IssuedToken | None:
        """The token with this hash, expired or not (the caller says which), or None."""
        ...
