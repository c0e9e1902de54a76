"""What every route needs: the store, the clock, the authenticator and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request

from taskcenter.domain.clock import Clock
from taskcenter.domain.errors import NotAuthorized, PayloadTooLarge
from taskcenter.domain.principals import Principal
from taskcenter.identity.authenticator import Authenticator
from taskcenter.storage.base import Store

MAX_BODY = 1024 * 1024


@dataclass(slots=True)
class Services:
    store: Store
    clock: Clock
    authenticator: Authenticator
    retention: timedelta

    def visible_since(self) -> datetime:
        return self.clock() - self.retention


def services(request: Request) -> Services:
    result: Services = request.app.state.services
    return result


async def read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise PayloadTooLarge(f"The request body exceeds {MAX_BODY} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge(f"The request body exceeds {MAX_BODY} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def authenticate(request: Request, body: bytes = b"") -> Principal:
    scope = request.scope
    return await services(request).authenticator.authenticate(
        scope["method"],
        scope["path"],
        scope["query_string"].decode("latin-1"),
        request.headers,
        body,
    )


def require_project(principal: Principal, project_id: str) -> None:
    """A credential only ever reaches its own project's resources."""
    if principal.project_id != project_id:
        raise NotAuthorized(f"The credential belongs to project {principal.project_id}, not {project_id}.")


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise NotAuthorized("This API needs the admin role.")
