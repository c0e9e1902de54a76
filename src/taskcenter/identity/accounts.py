"""Projects with their user and access key, the first-start admin, and the operator's resets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskcenter.domain.principals import AccessKey, Project, User
from taskcenter.identity.passwords import hash_password
from taskcenter.identity.secrets import new_access_key, new_id, new_password, new_secret_key
from taskcenter.ports.identity import IdentityPort

ADMIN = "admin"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,63}")


class NameTaken(ValueError):
    pass


class UnknownName(LookupError):
    """No project or user by that name; the message says which."""


class Refused(Exception):
    """Not as things stand (a project still in use, the admin project); the message says why."""


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
    store: IdentityPort, name: str, *, password: str | None = None, admin: bool = False
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


async def bootstrap_admin(store: IdentityPort, password: str | None) -> Credentials | None:
    """On an empty store, the admin user in project admin; None when users exist already."""
    if await store.has_users():
        return None
    try:
        return await create_project(store, ADMIN, password=password, admin=True)
    except NameTaken:
        return None  # another node bootstrapped the same store first


async def delete_project(store: IdentityPort, name: str) -> None:
    """Delete the project with its users, access keys and tokens, unless it still has work."""
    project = await store.get_project_by_name(name)
    if project is None:
        raise UnknownName(f"there is no project named {name!r}")
    if name == ADMIN:
        raise Refused("the admin project holds the admin user and cannot be deleted")
    in_use = await store.delete_project(project.id)
    if in_use is not None:
        raise Refused(
            f"project {name!r} still has {_count(in_use.live_instances, 'instance')} not deleted and "
            f"{_count(in_use.unfinished_jobs, 'unfinished job')}: delete its instances "
            f"(DELETE /v3/{project.id}/instances/{{id}}) and let its jobs end, then try again"
        )


async def reset_password(store: IdentityPort, user_name: str) -> str:
    """A new password for the user, whose tokens stop working; its access keys stay."""
    user = await store.get_user_by_name(user_name)
    if user is None:
        raise UnknownName(f"there is no user named {user_name!r}")
    password = new_password()
    if not await store.reset_credentials(user.id, hash_password(password), None):
        raise UnknownName(f"there is no user named {user_name!r}")  # deleted meanwhile
    return password


async def rotate_admin_credentials(store: IdentityPort) -> Credentials:
    """A new password and access key pair for the admin; its old key and tokens stop working.

    Recovers the admin's secrets printed once at first start: whoever can open the store (the
    machine's operator) can always mint new ones.
    """
    admin = await store.get_user_by_name(ADMIN)
    if admin is None or not admin.is_admin:
        raise UnknownName(
            "there is no admin user in this store: `taskcenter serve` creates it at first start"
        )
    project = await store.get_project(admin.project_id)
    password = new_password()
    key = AccessKey(new_access_key(), new_secret_key(), admin.id)
    if project is None or not await store.reset_credentials(admin.id, hash_password(password), key):
        raise UnknownName("the admin user disappeared while its credentials were being rotated")
    return Credentials(project.id, project.name, admin.name, password, key.access_key, key.secret_key)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
