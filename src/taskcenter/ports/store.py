"""A whole store: every port, as each storage engine implements them together."""

from __future__ import annotations

from typing import Protocol

from taskcenter.ports.engine import EnginePort
from taskcenter.ports.identity import IdentityPort
from taskcenter.ports.instances import InstancesPort
from taskcenter.ports.jobs import JobsPort


class Store(JobsPort, EnginePort, InstancesPort, IdentityPort, Protocol):
    """Durable jobs, instances and identities, in one database (SQLite or PostgreSQL).

    Only the assembling place holds a Store; the parts it wires type against the port they use.
    """

    dialect: str

    async def close(self) -> None: ...
