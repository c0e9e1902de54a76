"""The storage interface every engine implements, and is tested against by one contract suite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from taskcenter.domain.instance import Backup, DbInstance
from taskcenter.domain.instance_queries import BackupFilter, InstanceFilter
from taskcenter.domain.job import Job, JobEvent, JobPatch, NewJob
from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User
from taskcenter.domain.requests import JobFilter, Page, ScheduleFilter
from taskcenter.domain.runs import Claim, Outcome


@dataclass(frozen=True, slots=True)
class LeaseStatus:
    """After a heartbeat: the jobs the worker still holds, and those asked to stop."""

    held: frozenset[str]
    cancel_requested: frozenset[str]


@dataclass(frozen=True, slots=True)
class JobListing:
    jobs: list[Job]
    total_count: int
    action_names: list[str]  # every job name the project has used (for the console's filter)


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """A project as the operator's `taskcenter project list` shows it."""

    id: str
    name: str
    created: datetime
    users: tuple[str, ...]  # its users' names, sorted


def project_summaries(rows: Iterable[tuple[str, str, datetime, str | None]]) -> list[ProjectSummary]:
    """Summaries from (id, name, created, user name or None) rows, in the rows' order."""
    projects: dict[str, tuple[str, datetime, list[str]]] = {}
    for project_id, name, created, user in rows:
        users = projects.setdefault(project_id, (name, created, []))[2]
        if user is not None:
            users.append(user)
    return [
        ProjectSummary(pid, name, created, tuple(users)) for pid, (name, created, users) in projects.items()
    ]


@dataclass(frozen=True, slots=True)
class ProjectInUse:
    """Why a project cannot be deleted yet: what it still has running or holding resources."""

    live_instances: int  # instances not deleted (createfail ones included: they have records)
    unfinished_jobs: int


class Store(Protocol):
    """Durable jobs and identities.

    ``visible_since`` is the retention cut-off: a job that ended before it does not exist for
    readers. ``now`` is always passed in, so tests pin time without sleeping. The engine's
    methods take ``now=None`` too, and workers and maintenance pass it: then the store's clock
    decides leases and leadership (PostgreSQL's, one for every node; SQLite's single node's own).
    """

    dialect: str

    async def close(self) -> None: ...

    # Jobs
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

    # Engine: every write by a worker is fenced by its Claim (job, worker, attempt).
    async def claim_jobs(self, worker: str, limit: int, now: datetime | None, lease: timedelta) -> list[Job]:
        """Atomically move up to ``limit`` due runnable Pending jobs to Running under a lease."""
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
        """Call ``callback`` when a runnable job may have become due; returns the unsubscriber.

        PostgreSQL: LISTEN/NOTIFY, across nodes. SQLite: within this process only.
        """
        ...

    # Instances (the local MariaDB driver's records)
    async def create_instance(self, instance: DbInstance) -> None: ...

    async def get_instance(self, project_id: str | None, instance_id: str) -> DbInstance | None:
        """The instance, of ``project_id`` unless None."""
        ...

    async def list_instances(
        self, project_id: str, where: InstanceFilter, offset: int, limit: int
    ) -> tuple[list[DbInstance], int]:
        """The project's instances that are not deleted and match ``where`` (in SQL), oldest
        first, and how many match. ``where.impossible`` matches nothing."""
        ...

    async def update_instance(
        self,
        instance_id: str,
        now: datetime,
        *,
        status: str | None = None,
        port: int | None = None,
        flavor_ref: str | None = None,
    ) -> DbInstance: ...

    async def instances_with_status(self, statuses: list[str]) -> list[DbInstance]: ...

    async def unfinished_job_of_instance(self, instance_id: str) -> Job | None:
        """The instance's job that has not ended, if any (there is at most one)."""
        ...

    async def instance_has_jobs(self, project_id: str, instance_id: str, visible_since: datetime) -> bool:
        """Whether the project has a visible job on ``instance_id`` (producers report jobs on
        instances taskcenter has no record of)."""
        ...

    async def save_backup(self, backup: Backup) -> None:
        """Insert or replace the backup's record."""
        ...

    async def get_backup(self, project_id: str, backup_id: str) -> Backup | None: ...

    async def list_backups(
        self, project_id: str, where: BackupFilter, offset: int, limit: int
    ) -> tuple[list[Backup], int]:
        """The project's backups matching ``where`` (in SQL), newest first, and how many match.
        ``instance_name`` matches the name of the backup's instance."""
        ...

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

    # Identity, for the operator's command line
    async def list_projects(self) -> list[ProjectSummary]:
        """Every project, oldest first, with its users' names."""
        ...

    async def delete_project(self, project_id: str) -> ProjectInUse | None:
        """Delete the project with its users, their access keys and tokens, all or nothing.

        Refused, nothing deleted, while it has instances not deleted or jobs not ended: then
        what it still has is returned. None once deleted (or when there is no such project).
        Its ended jobs stay until retention purges them.
        """
        ...

    async def reset_credentials(self, user_id: str, password_hash: str, key: AccessKey | None) -> bool:
        """Give the user a new password hash and revoke its tokens, all or nothing.

        With ``key`` (which must belong to the user), it replaces every access key the user had.
        False for an unknown user.
        """
        ...
