"""POST /v3/auth/tokens: the Keystone v3 compatible token endpoint."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from taskcenter.api.bodies import read_body
from taskcenter.api.responses import JSON
from taskcenter.api.services import services
from taskcenter.domain.requests import parse_body
from taskcenter.identity.keystone import issue_token


async def create_token(request: Request) -> Response:
    body = parse_body(await read_body(request))
    svc = services(request.scope)
    base_url = str(request.base_url).rstrip("/")
    # The connection's address, which failed logins are counted by: X-Forwarded-For is anyone's
    # to write.
    client = request.scope.get("client")
    address = client[0] if client else None
    token, description = await issue_token(svc.store, svc.clock, svc.login_throttle, body, base_url, address)
    return JSON(description, status_code=201, headers={"X-Subject-Token": token})
