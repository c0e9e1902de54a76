"""Who the caller is, and what a caller may reach."""

from __future__ import annotations

from urllib.parse import quote

from starlette.types import Scope

from taskcenter.api.services import services
from taskcenter.domain.errors import NotAuthorized
from taskcenter.domain.principals import Principal


async def authenticate(scope: Scope, body: bytes = b"") -> Principal:
    # The path as sent, which the signature covers: "path" is percent-decoded once already. A
    # server without raw_path gets it re-encoded (all but an encoded "/" comes back the same).
    raw_path = scope.get("raw_path") or quote(scope["path"]).encode()
    return await services(scope).authenticator.authenticate(
        scope["method"], raw_path, scope["query_string"], scope["headers"], body
    )


async def authorized_project(scope: Scope, body: bytes = b"") -> str:
    """The path's project, once the caller is authenticated and its credential belongs to it:
    a credential only ever reaches its own project's resources."""
    principal = await authenticate(scope, body)
    project_id: str = scope["path_params"]["project_id"]
    if principal.project_id != project_id:
        raise NotAuthorized(
            f"The credential belongs to project {principal.project_id}, not {project_id}.",
            f"该凭证属于项目 {principal.project_id}，不属于 {project_id}。",
        )
    return project_id


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise NotAuthorized("This API needs the admin role.", "此 API 需要 admin 角色。")
