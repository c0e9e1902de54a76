"""Instances and backups in PostgreSQL (ports.instances.InstancesPort)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from taskcenter.domain.errors import InstanceNotFound
from taskcenter.domain.instance import Backup, DbInstance, InstanceStatus
from taskcenter.domain.instance_queries import BackupFilter, InstanceFilter
from taskcenter.domain.job import Job
from taskcenter.storage import sql
from taskcenter.storage.postgres import rows

SQL = sql.load(__name__)


class PostgresInstances:
    _pool: asyncpg.Pool

    async def create_instance(self, instance: DbInstance) -> None:
        await self._pool.execute(SQL["instance_insert"], *rows.instance_values(instance))

    async def get_instance(self, project_id: str | None, instance_id: str) -> DbInstance | None:
        row = await self._pool.fetchrow(SQL["instance_get"], instance_id)
        if row is None or (project_id is not None and row[1] != project_id):
            return None
        return rows.instance(row)

    async def list_instances(
        self, project_id: str, where: InstanceFilter, offset: int, limit: int
    ) -> tuple[list[DbInstance], int]:
        if where.impossible:
            return [], 0
        filters = sql.Filters()
        for exact, contains, match in (
            (SQL["instances_filter_id"], SQL["instances_filter_id_contains"], where.id),
            (SQL["instances_filter_name"], SQL["instances_filter_name_contains"], where.name),
        ):
            if match is not None:
                filters.add(contains if match.contains else exact, match.text)
        if where.vpc_id is not None:
            filters.add(SQL["instances_filter_vpc"], where.vpc_id)
        if where.subnet_id is not None:
            filters.add(SQL["instances_filter_subnet"], where.subnet_id)
        for key, value in where.tags:
            filters.add(SQL["instances_filter_tag"], [{"key": key, "value": value}])
        if where.with_address:
            filters.add(
                SQL["instances_filter_with_address"], [InstanceStatus.CREATING, InstanceStatus.CREATEFAIL]
            )
        base = (project_id, InstanceStatus.DELETED)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            found = await conn.fetch(filters.into(SQL["instances_list"]), *base, limit, offset, *filters.args)
            total = await conn.fetchval(filters.into(SQL["instances_count"]), *base, *filters.args)
        return [rows.instance(r) for r in found], total

    async def update_instance(
        self,
        instance_id: str,
        now: datetime,
        *,
        status: str | None = None,
        port: int | None = None,
        flavor_ref: str | None = None,
    ) -> DbInstance:
        row = await self._pool.fetchrow(SQL["instance_update"], status, port, flavor_ref, now, instance_id)
        if row is None:
            raise InstanceNotFound()
        return rows.instance(row)

    async def instances_with_status(self, statuses: list[str]) -> list[DbInstance]:
        return [rows.instance(r) for r in await self._pool.fetch(SQL["instances_with_status"], statuses)]

    async def unfinished_job_of_instance(self, instance_id: str) -> Job | None:
        row = await self._pool.fetchrow(SQL["job_unfinished_of_instance"], instance_id)
        return rows.job(row) if row else None

    async def instance_has_jobs(self, project_id: str, instance_id: str, visible_since: datetime) -> bool:
        return bool(
            await self._pool.fetchval(SQL["instance_has_jobs"], project_id, instance_id, visible_since)
        )

    async def save_backup(self, backup: Backup) -> None:
        await self._pool.execute(SQL["backup_save"], *rows.backup_values(backup))

    async def get_backup(self, project_id: str, backup_id: str) -> Backup | None:
        row = await self._pool.fetchrow(SQL["backup_get"], backup_id, project_id)
        return rows.backup(row) if row else None

    async def list_backups(
        self, project_id: str, where: BackupFilter, offset: int, limit: int
    ) -> tuple[list[Backup], int]:
        if where.impossible:
            return [], 0
        filters = sql.Filters()
        for fragment, value in (
            (SQL["backups_filter_instance"], where.instance_id),
            (SQL["backups_filter_id"], where.backup_id),
            (SQL["backups_filter_name"], where.name),
            (SQL["backups_filter_begin_from"], where.begin_time),
            (SQL["backups_filter_begin_to"], where.end_time),
        ):
            if value is not None:
                filters.add(fragment, value)
        if where.instance_name is not None:
            filters.add(SQL["backups_filter_instance_name"], project_id, where.instance_name)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            found = await conn.fetch(
                filters.into(SQL["backups_list"]), project_id, limit, offset, *filters.args
            )
            total = await conn.fetchval(filters.into(SQL["backups_count"]), project_id, *filters.args)
        return [rows.backup(r) for r in found], total
