"""Identity: projects, users, access keys and tokens; and the operator's view of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User


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


class IdentityPort(Protocol):
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

    # For the operator's command line

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
