"""Creating projects with their user and access key; the first-start admin."""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskcenter.domain.principals import AccessKey, Project, User
from taskcenter.identity.passwords import hash_password
from taskcenter.identity.secrets import new_access_key, new_id, new_password, new_secret_key
from taskcenter.storage.base import Store

ADMIN = "admin"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,63}")


class NameTaken(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Credentials:
    """Everything a new project's owner needs; printed once, never stored in the clear."""

    project_id: str
    name: str
    user: str
    password: str
    access_key: str
    secret_key: str

    def as_json(self) -> dict[str, str]:
        return {
            "project_id": self.project_id,
            "name": self.name,
            "user": self.user,
            "password": self.password,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
        }


async def create_project(
    store: Store, name: str, *, password: str | None = None, admin: bool = False
) -> Credentials:
    """A project and its one user (named like the project, scoped to it only), with an AK/SK."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid project name {name!r}: 1-64 letters, digits, '-' or '_', starting with a letter"
        )
    password = password or new_password()
    project = Project(new_id(), name)
    user = User(new_id(), name, project.id, hash_password(password), admin)
    key = AccessKey(new_access_key(), new_secret_key(), user.id)
    if not await store.create_identity(project, user, key):
        raise NameTaken(f"a project or user named {name!r} already exists")
    return Credentials(project.id, name, name, password, key.access_key, key.secret_key)


async def bootstrap_admin(store: Store, password: str | None) -> Credentials | None:
    """On an empty store, the admin user in project admin; None when users exist already."""
    if await store.has_users():
        return None
    try:
        return await create_project(store, ADMIN, password=password, admin=True)
    except NameTaken:
        return None  # another node bootstrapped the same store first
