"""What every route needs: the services, the caller's headers and identity, the body."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from starlette.requests import Request
from starlette.types import Scope, Send

from taskcenter.domain.clock import Clock
from taskcenter.domain.errors import NotAuthorized, PayloadTooLarge
from taskcenter.domain.principals import Principal
from taskcenter.engine.registry import Registry
from taskcenter.identity.authenticator import Authenticator
from taskcenter.identity.throttle import LoginThrottle
from taskcenter.mariadb.service import InstanceService
from taskcenter.ports import Store

MAX_BODY = 1024 * 1024
_JSON_HEADER = (b"content-type", b"application/json")


@dataclass(slots=True)
class Services:
    store: Store
    clock: Clock
    authenticator: Authenticator
    retention: timedelta
    registry: Registry
    instances: InstanceService | None = None  # the local MariaDB driver, where enabled
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)  # this node's failed logins

    def visible_since(self) -> datetime:
        return self.clock() - self.retention


def services(scope: Scope) -> Services:
    """The services the lifespan put in the request's state."""
    result: Services = scope["state"]["services"]
    return result


async def authenticate(scope: Scope, body: bytes = b"") -> Principal:
    # The path as sent, which the signature covers: "path" is percent-decoded once already. A
    # server without raw_path gets it re-encoded (all but an encoded "/" comes back the same).
    raw_path = scope.get("raw_path") or quote(scope["path"]).encode()
    return await services(scope).authenticator.authenticate(
        scope["method"], raw_path, scope["query_string"], scope["headers"], body
    )


def require_project(principal: Principal, project_id: str) -> None:
    """A credential only ever reaches its own project's resources."""
    if principal.project_id != project_id:
        raise NotAuthorized(f"The credential belongs to project {principal.project_id}, not {project_id}.")


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise NotAuthorized("This API needs the admin role.")


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


async def send_body(send: Send, body: bytes) -> None:
    """A rendered JSON answer straight to the ASGI server, for routes written as raw ASGI apps."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [_JSON_HEADER, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
