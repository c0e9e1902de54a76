"""What the routes work with: the services the lifespan puts in every request's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.types import Scope

from taskcenter.domain.clock import Clock
from taskcenter.engine.registry import Registry
from taskcenter.identity.authenticator import Authenticator
from taskcenter.identity.throttle import LoginThrottle
from taskcenter.mariadb.service import InstanceService
from taskcenter.ports import Store


@dataclass(slots=True)
class Services:
    store: Store
    clock: Clock
    authenticator: Authenticator
    retention: timedelta
    registry: Registry  # which job names workers run
    instances: InstanceService | None = None  # the local MariaDB driver, where enabled
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)  # this node's failed logins

    def visible_since(self) -> datetime:
        return self.clock() - self.retention


def services(scope: Scope) -> Services:
    """The services the lifespan put in the request's state."""
    result: Services = scope["state"]["services"]
    return result
