"""What every port's contract suite shares: a pinned clock and small builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from taskcenter.domain.instance import DbInstance, InstanceStatus
from taskcenter.domain.job import NewJob

T0 = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
LONG_AGO = T0 - timedelta(days=365)


def new_job(project: str = "p1", name: str = "CreateGaussDBforMySQLInstance", **kw: object) -> NewJob:
    return NewJob(project_id=project, name=name, **kw)  # type: ignore[arg-type]


def db_instance(instance_id: str, project: str = "p1", **kw: object) -> DbInstance:
    fields: dict[str, object] = {"name": f"db-{instance_id}", "status": InstanceStatus.NORMAL}
    fields.update({"flavor_ref": "gaussdb.mysql.small.x86.2", "created": T0, "updated": T0, **kw})
    return DbInstance(id=instance_id, project_id=project, **fields)  # type: ignore[arg-type]
