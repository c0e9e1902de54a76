"""Instances and backups in SQLite (ports.instances.InstancesPort)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import orjson

from taskcenter.domain.errors import InstanceNotFound
from taskcenter.domain.instance import Backup, DbInstance, InstanceStatus
from taskcenter.domain.instance_queries import BackupFilter, InstanceFilter
from taskcenter.domain.job import Job
from taskcenter.storage import sql
from taskcenter.storage.columns import to_us
from taskcenter.storage.sqlite import rows
from taskcenter.storage.sqlite.database import SqliteDatabase

SQL = sql.load(__name__)


class SqliteInstances:
    _db: SqliteDatabase

    async def create_instance(self, instance: DbInstance) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(SQL["instance_insert"], rows.instance_values(instance))

        await self._db.write(tx)

    async def get_instance(self, project_id: str | None, instance_id: str) -> DbInstance | None:
        def read(conn: sqlite3.Connection) -> DbInstance | None:
            row = conn.execute(SQL["instance_get"], (instance_id,)).fetchone()
            if row is None or (project_id is not None and row[1] != project_id):
                return None
            return rows.instance(row)

        return await self._db.read(read)

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
            filters.add(SQL["instances_filter_tag"], key, value)
        if where.with_address:
            filters.add(
                SQL["instances_filter_with_address"], InstanceStatus.CREATING, InstanceStatus.CREATEFAIL
            )

        def read(conn: sqlite3.Connection) -> tuple[list[DbInstance], int]:
            base = (project_id, InstanceStatus.DELETED)
            found = conn.execute(
                filters.into(SQL["instances_list"]), (*base, limit, offset, *filters.args)
            ).fetchall()
            (total,) = conn.execute(filters.into(SQL["instances_count"]), (*base, *filters.args)).fetchone()
            return [rows.instance(r) for r in found], total

        return await self._db.read(read)

    async def update_instance(
        self,
        instance_id: str,
        now: datetime,
        *,
        status: str | None = None,
        port: int | None = None,
        flavor_ref: str | None = None,
    ) -> DbInstance:
        def tx(conn: sqlite3.Connection) -> DbInstance:
            row = conn.execute(
                SQL["instance_update"], (status, port, flavor_ref, to_us(now), instance_id)
            ).fetchone()
            if row is None:
                raise InstanceNotFound()
            return rows.instance(row)

        return await self._db.write(tx)

    async def instances_with_status(self, statuses: list[str]) -> list[DbInstance]:
        def read(conn: sqlite3.Connection) -> list[DbInstance]:
            found = conn.execute(SQL["instances_with_status"], (orjson.dumps(statuses).decode(),))
            return [rows.instance(r) for r in found]

        return await self._db.read(read)

    async def unfinished_job_of_instance(self, instance_id: str) -> Job | None:
        def read(conn: sqlite3.Connection) -> Job | None:
            row = conn.execute(SQL["job_unfinished_of_instance"], (instance_id,)).fetchone()
            return rows.job(row) if row else None

        return await self._db.read(read)

    async def instance_has_jobs(self, project_id: str, instance_id: str, visible_since: datetime) -> bool:
        def read(conn: sqlite3.Connection) -> bool:
            args = (project_id, instance_id, to_us(visible_since))
            return conn.execute(SQL["instance_has_jobs"], args).fetchone() is not None

        return await self._db.read(read)

    async def save_backup(self, backup: Backup) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(SQL["backup_save"], rows.backup_values(backup))

        await self._db.write(tx)

    async def get_backup(self, project_id: str, backup_id: str) -> Backup | None:
        def read(conn: sqlite3.Connection) -> Backup | None:
            row = conn.execute(SQL["backup_get"], (backup_id, project_id)).fetchone()
            return rows.backup(row) if row else None

        return await self._db.read(read)

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
            (SQL["backups_filter_begin_from"], None if where.begin_time is None else to_us(where.begin_time)),
            (SQL["backups_filter_begin_to"], None if where.end_time is None else to_us(where.end_time)),
        ):
            if value is not None:
                filters.add(fragment, value)
        if where.instance_name is not None:
            filters.add(SQL["backups_filter_instance_name"], project_id, where.instance_name)

        def read(conn: sqlite3.Connection) -> tuple[list[Backup], int]:
            found = conn.execute(
                filters.into(SQL["backups_list"]), (project_id, limit, offset, *filters.args)
            ).fetchall()
            (total,) = conn.execute(
                filters.into(SQL["backups_count"]), (project_id, *filters.args)
            ).fetchone()
            return [rows.backup(r) for r in found], total

        return await self._db.read(read)
