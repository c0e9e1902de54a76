"""Instances and backups: the local MariaDB driver's records, and the jobs run on an instance."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from taskcenter.domain.instance import Backup, DbInstance
from taskcenter.domain.instance_queries import BackupFilter, InstanceFilter
from taskcenter.domain.job import Job


class InstancesPort(Protocol):
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
