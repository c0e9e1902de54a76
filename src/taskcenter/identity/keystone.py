"""A Keystone v3 compatible token endpoint: password method, project scope.

Enough of the protocol for keystoneauth1's v3.Password plugin and for curl users: the token
comes back in X-Subject-Token, the body describes it, and only its hash is stored. Repeated wrong
passwords lock the name or the client address for a while (identity.throttle).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from taskcenter.domain.clock import Clock
from taskcenter.domain.errors import InvalidParameter, KeystoneUnauthorized
from taskcenter.domain.principals import IssuedToken, Principal
from taskcenter.identity.passwords import verify_password
from taskcenter.identity.secrets import new_token, token_hash
from taskcenter.identity.throttle import LoginThrottle
from taskcenter.ports.identity import IdentityPort

TOKEN_LIFETIME = timedelta(hours=24)
DOMAIN = {"id": "default", "name": "Default"}
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def _dig(body: Any, *path: str) -> Any:
    node = body
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise InvalidParameter(f"{'.'.join(path)}: is required.", f"{'.'.join(path)}：必填。")
        node = node[key]
    return node


async def issue_token(
    store: IdentityPort,
    clock: Clock,
    throttle: LoginThrottle,
    body: dict[str, Any],
    base_url: str,
    client_address: str | None,
) -> tuple[str, dict[str, Any]]:
    """The new token and the response body, or an error saying which field or credential is
    wrong, or that the name or ``client_address`` is locked after failed logins."""
    methods = _dig(body, "auth", "identity", "methods")
    if not isinstance(methods, list) or "password" not in methods:
        raise InvalidParameter(
            "auth.identity.methods: only the password method is supported.",
            "auth.identity.methods：只支持 password 方式。",
        )
    user_spec = _dig(body, "auth", "identity", "password", "user")
    name, password = _dig(user_spec, "name"), _dig(user_spec, "password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise InvalidParameter(
            "auth.identity.password.user: name and password must be strings.",
            "auth.identity.password.user：name 和 password 必须是字符串。",
        )
    throttle.check(name, client_address, clock().timestamp())
    user = await store.get_user_by_name(name)
    # Verify against a hash even for an unknown user, so timing does not reveal which names exist.
    stored_hash = user.password_hash if user else _DUMMY_HASH
    valid = await asyncio.to_thread(verify_password, stored_hash, password)
    # Again: other attempts' failures may have locked the name while this one was verified. Then
    # it is refused alike, right or wrong, so that guesses sent all at once learn no more than
    # the limit allows.
    verified_at = clock().timestamp()
    throttle.check(name, client_address, verified_at)
    if user is None or not valid:
        throttle.failed(name, client_address, verified_at)
        raise KeystoneUnauthorized()
    throttle.succeeded(name)
    project = await store.get_project(user.project_id)
    assert project is not None
    scope = body["auth"].get("scope")
    if isinstance(scope, dict) and isinstance(scope.get("project"), dict):
        wanted = scope["project"]
        if wanted.get("id", project.id) != project.id or wanted.get("name", project.name) != (project.name):
            raise KeystoneUnauthorized(
                f"User {name} has no role on the requested project; it is scoped to project {project.name}.",
                f"用户 {name} 在所请求的项目中没有角色，它只属于项目 {project.name}。",
            )
    elif scope is not None:
        raise InvalidParameter(
            "auth.scope: only project scope is supported.", "auth.scope：只支持 project 范围。"
        )
    now = clock()
    principal = Principal(user.id, user.name, project.id, project.name, user.is_admin)
    token = new_token()
    issued = IssuedToken(token_hash(token), principal, now, now + TOKEN_LIFETIME)
    await store.save_token(issued)
    return token, _describe(issued, base_url)


def _describe(issued: IssuedToken, base_url: str) -> dict[str, Any]:
    p = issued.principal
    role = "admin" if p.is_admin else "member"
    return {
        "token": {
            "methods": ["password"],
            "issued_at": issued.issued_at.strftime(_TIME),
            "expires_at": issued.expires_at.strftime(_TIME),
            "user": {"id": p.user_id, "name": p.user_name, "domain": DOMAIN},
            "project": {"id": p.project_id, "name": p.project_name, "domain": DOMAIN},
            "roles": [{"id": role, "name": role}],
            "catalog": [
                {
                    "id": "identity",
                    "type": "identity",
                    "name": "keystone",
                    "endpoints": [_endpoint(f"{base_url}/v3")],
                },
                {
                    "id": "gaussdb",
                    "type": "gaussdbv3",
                    "name": "taskcenter",
                    "endpoints": [_endpoint(base_url)],
                },
            ],
        }
    }


def _endpoint(url: str) -> dict[str, str]:
    return {"id": url, "interface": "public", "region": "local", "region_id": "local", "url": url}


_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$Xt3C1F2pZpO2XwHcBP0Ffuw2y2vXfWQ1qRt7oD1xSxE"
)
