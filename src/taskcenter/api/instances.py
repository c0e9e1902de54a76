"""The TaurusDB instance APIs: each operation becomes an engine job on the local driver."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from taskcenter.api.access import authorized_project
from taskcenter.api.bodies import read_body
from taskcenter.api.responses import JSON
from taskcenter.api.services import Services, services
from taskcenter.domain.errors import InstanceBusy, InstanceNotFound, InvalidParameter
from taskcenter.domain.instance import (
    ENGINE_VERSION,
    Backup,
    DbInstance,
    InstanceStatus,
    ShownStatus,
    native_password_hash,
    parse_instance_id,
    shown_status,
    under_way,
)
from taskcenter.domain.instance_queries import parse_backup_query, parse_instance_query
from taskcenter.domain.instance_requests import (
    parse_create,
    parse_create_backup,
    parse_databases,
    parse_datastore_name,
    parse_flavor_query,
    parse_password,
    parse_resize,
    parse_restart,
    parse_users,
)
from taskcenter.domain.instance_wire import (
    created_backup,
    created_instance,
    flavors,
    instance_detail,
    listed_backup,
    listed_instance,
)
from taskcenter.domain.job import SECRETS, Instance, Job, NewJob
from taskcenter.domain.problems import bad
from taskcenter.domain.requests import parse_body
from taskcenter.domain.status import JobStatus
from taskcenter.mariadb.service import InstanceService

MAINTENANCE_HOUR = 18  # the window the instance detail shows: 18:00-22:00 UTC


def _instance_service(svc: Services) -> InstanceService:
    if svc.instances is None:
        raise InvalidParameter(
            "instance_id: this node does not run instances.", "instance_id: 此节点不运行实例。"
        )
    return svc.instances


def _live_status(svc: Services, instance: DbInstance) -> str:
    return svc.instances.live_status(instance) if svc.instances else instance.status


async def _shown_status(svc: Services, instance: DbInstance) -> ShownStatus:
    """The instance's status from what is stored, its server, and the operation under way."""
    job = await svc.store.unfinished_job_of_instance(instance.id)
    operation = job.name if job is not None and under_way(job, svc.clock()) else None
    return shown_status(_live_status(svc, instance), operation)


async def _authorized(request: Request, body: bytes = b"") -> tuple[Services, str]:
    """The services, and the path's project once the caller may reach it."""
    project_id = await authorized_project(request.scope, body)
    return services(request.scope), project_id


async def _instance(svc: Services, project_id: str, instance_id: str) -> DbInstance:
    instance = await svc.store.get_instance(project_id, parse_instance_id("instance_id", instance_id))
    if instance is None or instance.status == InstanceStatus.DELETED:
        raise InstanceNotFound()
    return instance


def _maintenance_window(svc: Services, delay: bool) -> datetime | None:
    """With ``delay``: the start of the instance's next maintenance window (18:00 UTC)."""
    if not delay:
        return None
    now = svc.clock()
    start = now.replace(hour=MAINTENANCE_HOUR, minute=0, second=0, microsecond=0)
    return start if start > now else start + timedelta(days=1)


async def _operation(
    svc: Services, instance: DbInstance, name: str, params: dict[str, Any], run_at: datetime | None = None
) -> Job:
    """The job of one operation on an instance; 409 DBS.200019 while another is unfinished."""
    handler = svc.registry.get(name)
    assert handler is not None, f"no handler for {name}"
    new = NewJob(
        project_id=instance.project_id,
        name=name,
        status=JobStatus.PENDING,
        instance=Instance(instance.id, instance.name),
        run_by_worker=True,
        max_attempts=handler.attempts,
        params={"instance_id": instance.id, **params},
        exclusive=True,
        run_at=run_at,
    )
    job, _ = await svc.store.create_job(new, svc.clock())
    return job


async def create_instance(request: Request) -> Response:
    """POST /v3/{project_id}/instances (create, or restore into a new instance)."""
    body = await read_body(request)
    svc, project_id = await _authorized(request, body)
    create = parse_create(parse_body(body))
    params: dict[str, Any] = {SECRETS: {"password_hash": create.password_hash}}
    job_name = "CreateGaussDBforMySQLInstance"
    if create.restore is not None:
        source = await _instance(svc, project_id, create.restore.source_instance_id)
        backup = await svc.store.get_backup(project_id, create.restore.backup_id)
        if backup is None or backup.instance_id != source.id or backup.status != "COMPLETED":
            raise bad("restore_point.backup_id", "no completed backup of that instance has this id.",
                      "该实例没有此ID的已完成备份。")  # fmt: skip
        params["restore_from"] = str(_instance_service(svc).backup_file(backup.id))
        job_name = "RestoreGaussDBforMySQLNewInstance"
    now = svc.clock()
    instance = DbInstance(
        id=uuid.uuid4().hex + "in07",
        project_id=project_id,
        name=create.name,
        status=InstanceStatus.CREATING,
        flavor_ref=create.flavor.spec_code,
        created=now,
        updated=now,
        request=create.recorded(),
    )
    await svc.store.create_instance(instance)
    job = await _operation(svc, instance, job_name, params)
    return JSON({"instance": created_instance(instance), "job_id": job.id}, status_code=202)


async def list_instances(request: Request) -> Response:
    """GET /v3/{project_id}/instances (statuses BUILD, ACTIVE, ...), with every filter the
    SDK documents; offset is a record offset, limit 1-100."""
    return await _list_instances(request, unify=False)


async def list_instances_unify(request: Request) -> Response:
    """GET /v3.1/{project_id}/instances: the same, with statuses creating, normal, ..."""
    return await _list_instances(request, unify=True)


async def _list_instances(request: Request, unify: bool) -> Response:
    svc, project_id = await _authorized(request)
    where, offset, limit = parse_instance_query(dict(request.query_params))
    instances, total = await svc.store.list_instances(project_id, where, offset, limit)
    listed = [listed_instance(i, await _shown_status(svc, i), unify) for i in instances]
    return JSON({"instances": listed, "total_count": total})


async def show_instance(request: Request) -> Response:
    """GET /v3/{project_id}/instances/{instance_id}; a deleted instance is not found."""
    return await _show_instance(request, unify=False)


async def show_instance_unify(request: Request) -> Response:
    """GET /v3.1/{project_id}/instances/{instance_id}: the same, with statuses creating, ..."""
    return await _show_instance(request, unify=True)


async def _show_instance(request: Request, unify: bool) -> Response:
    svc, project_id = await _authorized(request)
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    return JSON({"instance": instance_detail(instance, await _shown_status(svc, instance), unify)})


async def delete_instance(request: Request) -> Response:
    svc, project_id = await _authorized(request)
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_idle(svc, instance)
    job = await _operation(svc, instance, "DeleteGaussDBforMySQLInstance", {})
    return JSON({"job_id": job.id}, status_code=202)


async def restart_instance(request: Request) -> Response:
    body = await read_body(request)
    svc, project_id = await _authorized(request, body)
    restart = parse_restart(parse_body(body) if body.strip() else {})
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    run_at = _maintenance_window(svc, restart.delay)
    job = await _operation(svc, instance, "RebootGaussDBforMySQLInstance", {}, run_at)
    return JSON({"job_id": job.id}, status_code=202)


async def resize_instance(request: Request) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/action: {"resize_flavor": {"spec_code"}}."""
    body = await read_body(request)
    svc, project_id = await _authorized(request, body)
    resize = parse_resize(parse_body(body))
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    spec_code = resize.flavor.spec_code
    job = await _operation(
        svc, instance, "ResizeGaussDBforMySQLFlavor",
        {"flavor_ref": spec_code, "target_config": {"flavor_ref": spec_code}},
        _maintenance_window(svc, resize.delay),
    )  # fmt: skip
    return JSON({"job_id": job.id}, status_code=202)


async def show_flavors(request: Request) -> Response:
    await _authorized(request)
    spec_code = parse_flavor_query(request.path_params["database_name"], dict(request.query_params))
    return JSON({"flavors": flavors(spec_code)})


async def show_engine_versions(request: Request) -> Response:
    await _authorized(request)
    parse_datastore_name(request.path_params["database_name"])
    return JSON({"datastores": [dict(ENGINE_VERSION)]})


async def _require_idle(svc: Services, instance: DbInstance) -> None:
    """One rule for every operation: while another is unfinished, 409 DBS.200019 (what clients
    retry on), whatever the instance's state. (The store enforces it again as it inserts the
    job, for two requests at once.)"""
    if await svc.store.unfinished_job_of_instance(instance.id) is not None:
        raise InstanceBusy()


async def _require_ready(svc: Services, instance: DbInstance) -> None:
    """Idle, then created: only an instance that was created can do this operation."""
    await _require_idle(svc, instance)
    status = _live_status(svc, instance)
    if status not in (InstanceStatus.NORMAL, InstanceStatus.ABNORMAL):
        raise bad(
            "instance_id",
            f"the instance is {status}: only an instance that was created can do this.",
            f"实例状态为 {status}：只有创建成功的实例才能执行此操作。",
        )


async def create_backup(request: Request) -> Response:
    """POST /v3/{project_id}/backups/create: a manual full backup, consistent (one snapshot)."""
    body = await read_body(request)
    svc, project_id = await _authorized(request, body)
    wanted = parse_create_backup(parse_body(body))
    instance = await _instance(svc, project_id, wanted.instance_id)
    await _require_ready(svc, instance)
    backup = Backup(
        uuid.uuid4().hex + "br07", project_id, instance.id, wanted.name, "BUILDING", svc.clock(),
        wanted.description,
    )  # fmt: skip
    await svc.store.save_backup(backup)
    try:
        job = await _operation(svc, instance, "CreateGaussDBforMySQLBackup", {"backup_id": backup.id})
    except InstanceBusy:
        await svc.store.save_backup(dataclasses.replace(backup, status="FAILED", end=svc.clock()))
        raise
    return JSON({"backup": created_backup(backup), "job_id": job.id}, status_code=202)


async def list_backups(request: Request) -> Response:
    """GET /v3/{project_id}/backups, with every filter the SDK documents; offset is a record
    offset, limit 1-100."""
    svc, project_id = await _authorized(request)
    where, offset, limit = parse_backup_query(dict(request.query_params))
    backups, total = await svc.store.list_backups(project_id, where, offset, limit)
    names = {}
    for backup in backups:
        if backup.instance_id not in names:
            found = await svc.store.get_instance(project_id, backup.instance_id)
            names[backup.instance_id] = found.name if found else ""
    return JSON({"backups": [listed_backup(b, names[b.instance_id]) for b in backups], "total_count": total})


async def create_databases(request: Request) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/databases."""
    body = await read_body(request)
    svc, project_id = await _authorized(request, body)
    databases = parse_databases(parse_body(body))
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    params = {"databases": [dataclasses.asdict(d) for d in databases]}
    job = await _operation(svc, instance, "CreateGaussDBforMySQLDatabase", params)
    return JSON({"job_id": job.id}, status_code=202)


async def create_users(request: Request) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/db-users (passwords kept only as hashes)."""
    body = await read_body(request)
    svc, project_id = await _authorized(request, body)
    users = parse_users(parse_body(body))
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    params = {"users": [u.grants() for u in users], SECRETS: {u.name: u.password_hash for u in users}}
    job = await _operation(svc, instance, "CreateGaussDBforMySQLDatabaseUser", params)
    return JSON({"job_id": job.id}, status_code=202)


async def reset_password(request: Request) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/password: at once, as the cloud does."""
    body = await read_body(request)
    svc, project_id = await _authorized(request, body)
    password = parse_password(parse_body(body))
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    await _instance_service(svc).reset_root_password(instance, native_password_hash(password))
    return JSON({})
