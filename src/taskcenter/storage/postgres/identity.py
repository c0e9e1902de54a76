"""Projects, users, access keys and tokens in PostgreSQL (ports.identity.IdentityPort)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from taskcenter.domain.instance import InstanceStatus
from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User
from taskcenter.ports.identity import ProjectInUse, ProjectSummary, project_summaries
from taskcenter.storage import sql

SQL = sql.load(__name__)


class PostgresIdentity:
    _pool: asyncpg.Pool

    async def create_identity(self, project: Project, user: User, key: AccessKey) -> bool:
        now = datetime.now(UTC)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(SQL["project_insert"], project.id, project.name, now)
                await conn.execute(
                    SQL["user_insert"],
                    user.id,
                    user.name,
                    user.project_id,
                    user.password_hash,
                    user.is_admin,
                    now,
                )
                await conn.execute(SQL["access_key_insert"], key.access_key, key.secret_key, key.user_id, now)
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def has_users(self) -> bool:
        return bool(await self._pool.fetchval(SQL["users_any"]))

    async def get_user_by_name(self, name: str) -> User | None:
        row = await self._pool.fetchrow(SQL["user_by_name"], name)
        return User(row[0], row[1], row[2], row[3], row[4]) if row else None

    async def get_project(self, project_id: str) -> Project | None:
        row = await self._pool.fetchrow(SQL["project_get"], project_id)
        return Project(row[0], row[1]) if row else None

    async def get_project_by_name(self, name: str) -> Project | None:
        row = await self._pool.fetchrow(SQL["project_by_name"], name)
        return Project(row[0], row[1]) if row else None

    async def get_access_key(self, access_key: str) -> tuple[AccessKey, Principal] | None:
        row = await self._pool.fetchrow(SQL["access_key_get"], access_key)
        if row is None:
            return None
        return AccessKey(row[0], row[1], row[2]), Principal(row[2], row[3], row[4], row[5], row[6])

    async def save_token(self, token: IssuedToken) -> None:
        p = token.principal
        await self._pool.execute(
            SQL["token_insert"], token.token_hash, p.user_id, p.project_id, token.issued_at, token.expires_at
        )

    async def get_token(self, token_hash: str) -> IssuedToken | None:
        row = await self._pool.fetchrow(SQL["token_get"], token_hash)
        if row is None:
            return None
        principal = Principal(row[1], row[2], row[3], row[4], row[5])
        return IssuedToken(row[0], principal, row[6], row[7])

    async def list_projects(self) -> list[ProjectSummary]:
        found = await self._pool.fetch(SQL["projects_list"])
        return project_summaries((r[0], r[1], r[2], r[3]) for r in found)

    async def delete_project(self, project_id: str) -> ProjectInUse | None:
        async with self._pool.acquire() as conn, conn.transaction():
            instances = await conn.fetchval(SQL["project_live_instances"], project_id, InstanceStatus.DELETED)
            jobs = await conn.fetchval(SQL["project_unfinished_jobs"], project_id)
            if instances or jobs:
                return ProjectInUse(instances, jobs)
            await conn.execute(SQL["project_tokens_delete"], project_id)
            await conn.execute(SQL["project_access_keys_delete"], project_id)
            await conn.execute(SQL["project_users_delete"], project_id)
            await conn.execute(SQL["project_delete"], project_id)
        return None

    async def reset_credentials(self, user_id: str, password_hash: str, key: AccessKey | None) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.execute(SQL["user_password_set"], password_hash, user_id) != "UPDATE 1":
                return False
            await conn.execute(SQL["user_tokens_delete"], user_id)
            if key is not None:
                await conn.execute(SQL["user_access_keys_delete"], user_id)
                await conn.execute(
                    SQL["access_key_insert"], key.access_key, key.secret_key, user_id, datetime.now(UTC)
                )
        return True
