"""Projects, users, access keys and tokens in SQLite (ports.identity.IdentityPort)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from taskcenter.domain.instance import InstanceStatus
from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User
from taskcenter.ports.identity import ProjectInUse, ProjectSummary, project_summaries
from taskcenter.storage import sql
from taskcenter.storage.columns import from_us, to_us
from taskcenter.storage.sqlite.database import SqliteDatabase

SQL = sql.load(__name__)


class _Rollback(Exception):
    pass


class SqliteIdentity:
    _db: SqliteDatabase

    async def create_identity(self, project: Project, user: User, key: AccessKey) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            now = to_us(datetime.now(UTC))
            try:
                conn.execute(SQL["project_insert"], (project.id, project.name, now))
                conn.execute(
                    SQL["user_insert"],
                    (user.id, user.name, user.project_id, user.password_hash, user.is_admin, now),
                )
            except sqlite3.IntegrityError:
                raise _Rollback from None  # name taken: undo the project row too
            conn.execute(SQL["access_key_insert"], (key.access_key, key.secret_key, key.user_id, now))
            return True

        try:
            return await self._db.write(tx)
        except _Rollback:
            return False

    async def has_users(self) -> bool:
        return await self._db.read(lambda conn: conn.execute(SQL["users_any"]).fetchone() is not None)

    async def get_user_by_name(self, name: str) -> User | None:
        def read(conn: sqlite3.Connection) -> User | None:
            row = conn.execute(SQL["user_by_name"], (name,)).fetchone()
            return User(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

        return await self._db.read(read)

    async def get_project(self, project_id: str) -> Project | None:
        def read(conn: sqlite3.Connection) -> Project | None:
            row = conn.execute(SQL["project_get"], (project_id,)).fetchone()
            return Project(row[0], row[1]) if row else None

        return await self._db.read(read)

    async def get_project_by_name(self, name: str) -> Project | None:
        def read(conn: sqlite3.Connection) -> Project | None:
            row = conn.execute(SQL["project_by_name"], (name,)).fetchone()
            return Project(row[0], row[1]) if row else None

        return await self._db.read(read)

    async def get_access_key(self, access_key: str) -> tuple[AccessKey, Principal] | None:
        def read(conn: sqlite3.Connection) -> tuple[AccessKey, Principal] | None:
            row = conn.execute(SQL["access_key_get"], (access_key,)).fetchone()
            if row is None:
                return None
            return AccessKey(row[0], row[1], row[2]), Principal(row[2], row[3], row[4], row[5], bool(row[6]))

        return await self._db.read(read)

    async def save_token(self, token: IssuedToken) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            p = token.principal
            conn.execute(
                SQL["token_insert"],
                (token.token_hash, p.user_id, p.project_id, to_us(token.issued_at), to_us(token.expires_at)),
            )

        await self._db.write(tx)

    async def get_token(self, token_hash: str) -> IssuedToken | None:
        def read(conn: sqlite3.Connection) -> IssuedToken | None:
            row = conn.execute(SQL["token_get"], (token_hash,)).fetchone()
            if row is None:
                return None
            principal = Principal(row[1], row[2], row[3], row[4], bool(row[5]))
            return IssuedToken(row[0], principal, from_us(row[6]), from_us(row[7]))

        return await self._db.read(read)

    async def list_projects(self) -> list[ProjectSummary]:
        def read(conn: sqlite3.Connection) -> list[ProjectSummary]:
            found = conn.execute(SQL["projects_list"]).fetchall()
            return project_summaries((r[0], r[1], from_us(r[2]), r[3]) for r in found)

        return await self._db.read(read)

    async def delete_project(self, project_id: str) -> ProjectInUse | None:
        def tx(conn: sqlite3.Connection) -> ProjectInUse | None:
            (instances,) = conn.execute(
                SQL["project_live_instances"], (project_id, InstanceStatus.DELETED)
            ).fetchone()
            (jobs,) = conn.execute(SQL["project_unfinished_jobs"], (project_id,)).fetchone()
            if instances or jobs:
                return ProjectInUse(instances, jobs)
            conn.execute(SQL["project_tokens_delete"], (project_id,))
            conn.execute(SQL["project_access_keys_delete"], (project_id,))
            conn.execute(SQL["project_users_delete"], (project_id,))
            conn.execute(SQL["project_delete"], (project_id,))
            return None

        return await self._db.write(tx)

    async def reset_credentials(self, user_id: str, password_hash: str, key: AccessKey | None) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            if conn.execute(SQL["user_password_set"], (password_hash, user_id)).rowcount != 1:
                return False
            conn.execute(SQL["user_tokens_delete"], (user_id,))
            if key is not None:
                conn.execute(SQL["user_access_keys_delete"], (user_id,))
                conn.execute(
                    SQL["access_key_insert"],
                    (key.access_key, key.secret_key, user_id, to_us(datetime.now(UTC))),
                )
            return True

        return await self._db.write(tx)
