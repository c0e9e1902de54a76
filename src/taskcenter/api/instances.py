"""The TaurusDB instance APIs: each operation becomes an engine job on the local driver."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from taskcenter.api.context import Services, authenticate, read_body, require_project, services
from taskcenter.api.responses import JSON
from taskcenter.domain.errors import InstanceBusy, InstanceNotFound, InvalidParameter
from taskcenter.domain.instance import (
    DATASTORE,
    ENGINE_VERSION,
    Backup,
    DbInstance,
    InstanceStatus,
    ShownStatus,
    check_backup_name,
    check_flavor,
    check_password,
    native_password_hash,
    parse_instance_id,
    shown_status,
    under_way,
)
from taskcenter.domain.instance_queries import parse_backup_query, parse_instance_query
from taskcenter.domain.instance_wire import (
    created_backup,
    created_instance,
    flavors,
    instance_detail,
    listed_backup,
    listed_instance,
    parse_create,
)
from taskcenter.domain.job import SECRETS, Instance, Job, NewJob
from taskcenter.domain.problems import bad
from taskcenter.domain.requests import parse_body
from taskcenter.domain.status import JobStatus
from taskcenter.mariadb.service import InstanceService

MAINTENANCE_HOUR = 18  # the window the instance detail shows: 18:00-22:00 UTC


def _instances(svc: Services) -> InstanceService:
    if svc.instances is None:
        raise InvalidParameter("instance_id: this node does not run instances.")
    return svc.instances


def _live_status(svc: Services, instance: DbInstance) -> str:
    return svc.instances.live_status(instance) if svc.instances else instance.status


async def _shown_status(svc: Services, instance: DbInstance) -> ShownStatus:
    """The instance's status from what is stored, its server, and the operation under way."""
    job = await svc.store.unfinished_job_of_instance(instance.id)
    operation = job.name if job is not None and under_way(job, svc.clock()) else None
    return shown_status(_live_status(svc, instance), operation)


async def _project(request: Request, body: bytes = b"") -> tuple[Services, str]:
    principal = await authenticate(request.scope, body)
    project_id = request.path_params["project_id"]
    require_project(principal, project_id)
    return services(request.scope), project_id


async def _instance(svc: Services, project_id: str, instance_id: str) -> DbInstance:
    instance = await svc.store.get_instance(project_id, parse_instance_id("instance_id", instance_id))
    if instance is None or instance.status == InstanceStatus.DELETED:
        raise InstanceNotFound()
    return instance


def _maintenance_window(svc: Services, delay: Any) -> datetime | None:
    """With ``delay`` true: the start of the instance's next maintenance window (18:00 UTC)."""
    if delay in (None, False):
        return None
    if delay is not True:
        raise InvalidParameter("delay: must be true or false.")
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
        runnable=True,
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
    svc, project_id = await _project(request, body)
    name, flavor, password, echoed, restore = parse_create(parse_body(body))
    params: dict[str, Any] = {SECRETS: {"password_hash": native_password_hash(password)}}
    job_name = "CreateGaussDBforMySQLInstance"
    if restore is not None:
        source = await _instance(svc, project_id, str(restore["source_instance_id"]))
        if restore.get("type", "backup") != "backup" or not restore.get("backup_id"):
            raise InvalidParameter("restore_point: only restores from a backup (type backup, backup_id).")
        backup = await svc.store.get_backup(project_id, str(restore["backup_id"]))
        if backup is None or backup.instance_id != source.id or backup.status != "COMPLETED":
            raise InvalidParameter("restore_point.backup_id: no completed backup of that instance.")
        params["restore_from"] = str(_instances(svc).backup_file(backup.id))
        job_name = "RestoreGaussDBforMySQLNewInstance"
    now = svc.clock()
    instance = DbInstance(
        id=uuid.uuid4().hex + "in07",
        project_id=project_id,
        name=name,
        status=InstanceStatus.CREATING,
        flavor_ref=flavor.spec_code,
        created=now,
        updated=now,
        request=echoed,
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
    svc, project_id = await _project(request)
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
    svc, project_id = await _project(request)
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    return JSON({"instance": instance_detail(instance, await _shown_status(svc, instance), unify)})


async def delete_instance(request: Request) -> Response:
    svc, project_id = await _project(request)
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_idle(svc, instance)
    job = await _operation(svc, instance, "DeleteGaussDBforMySQLInstance", {})
    return JSON({"job_id": job.id}, status_code=202)


async def restart_instance(request: Request) -> Response:
    body = await read_body(request)
    svc, project_id = await _project(request, body)
    fields = parse_body(body) if body.strip() else {}
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    run_at = _maintenance_window(svc, fields.get("delay"))
    job = await _operation(svc, instance, "RebootGaussDBforMySQLInstance", {}, run_at)
    return JSON({"job_id": job.id}, status_code=202)


async def resize_instance(request: Request) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/action: {"resize_flavor": {"spec_code"}}."""
    body = await read_body(request)
    svc, project_id = await _project(request, body)
    fields = parse_body(body)
    resize = fields.get("resize_flavor")
    if not isinstance(resize, dict):
        raise InvalidParameter("resize_flavor: is required.")
    flavor = check_flavor(resize.get("spec_code"))
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    job = await _operation(
        svc, instance, "ResizeGaussDBforMySQLFlavor",
        {"flavor_ref": flavor.spec_code, "target_config": {"flavor_ref": flavor.spec_code}},
        _maintenance_window(svc, fields.get("delay")),  # taskcenter's extension: the SDK has no delay
    )  # fmt: skip
    return JSON({"job_id": job.id}, status_code=202)


async def show_flavors(request: Request) -> Response:
    await _project(request)
    _datastore_name(request)
    if request.query_params.get("availability_zone_mode", "").lower() not in ("single", "multi"):
        raise InvalidParameter("availability_zone_mode: is required (single or multi).")
    return JSON({"flavors": flavors(request.query_params.get("spec_code"))})


async def show_engine_versions(request: Request) -> Response:
    await _project(request)
    _datastore_name(request)
    return JSON({"datastores": [dict(ENGINE_VERSION)]})


def _datastore_name(request: Request) -> None:
    if request.path_params["database_name"].lower() != DATASTORE:
        raise InvalidParameter(f"database_name: only {DATASTORE} is supported.")


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


_DB_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_USER_NAME = re.compile(r"[A-Za-z0-9_]{1,32}")
_HOST = re.compile(r"%|(\d{1,3}|%)(\.(\d{1,3}|%)){3}")
_CHARSET = re.compile(r"[a-z0-9_]{1,32}")
_FORBIDDEN = set("!<\"='>&\n")


def _list(body: dict[str, Any], field: str, limit: int) -> list[Any]:
    value = body.get(field)
    if not isinstance(value, list) or not value or len(value) > limit:
        raise InvalidParameter(f"{field}: must be a list of 1-{limit} items.")
    return value


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidParameter(f"{field}: must be an object.")
    return value


async def create_backup(request: Request) -> Response:
    """POST /v3/{project_id}/backups/create: a manual full backup, consistent (one snapshot)."""
    body = await read_body(request)
    svc, project_id = await _project(request, body)
    fields = parse_body(body)
    instance_id = fields.get("instance_id")
    if not isinstance(instance_id, str):
        raise InvalidParameter("instance_id: is required.")
    name = check_backup_name(fields.get("name"))
    description = fields.get("description", "")
    if not isinstance(description, str) or len(description) > 256 or _FORBIDDEN & set(description):
        raise InvalidParameter("description: at most 256 characters, none of !<\"='>&.")
    instance = await _instance(svc, project_id, instance_id)
    await _require_ready(svc, instance)
    backup = Backup(
        uuid.uuid4().hex + "br07", project_id, instance.id, name, "BUILDING", svc.clock(), description
    )
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
    svc, project_id = await _project(request)
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
    svc, project_id = await _project(request, body)
    databases = []
    for i, raw in enumerate(_list(parse_body(body), "databases", 100)):
        item = _object(raw, f"databases[{i}]")
        name, charset = item.get("name"), item.get("character_set")
        if not isinstance(name, str) or not _DB_NAME.fullmatch(name) or name.count("-") > 10:
            raise InvalidParameter(f"databases[{i}].name: 1-64 letters, digits, '_' or '-'.")
        if not isinstance(charset, str) or not _CHARSET.fullmatch(charset):
            raise InvalidParameter(f"databases[{i}].character_set: a character set such as utf8mb4.")
        comment = item.get("comment", "")
        if not isinstance(comment, str) or len(comment) > 512 or _FORBIDDEN & set(comment):
            raise InvalidParameter(f"databases[{i}].comment: at most 512 characters, none of !<\"='>&.")
        users = []
        for j, user in enumerate(item.get("users") or []):
            user = _object(user, f"databases[{i}].users[{j}]")
            if not isinstance(user.get("name"), str) or not _USER_NAME.fullmatch(user["name"]):
                raise InvalidParameter(f"databases[{i}].users[{j}].name: 1-32 letters, digits or '_'.")
            host = user.get("host", "%")
            if not isinstance(host, str) or not _HOST.fullmatch(host):
                raise InvalidParameter(f"databases[{i}].users[{j}].host: an IPv4 address, '%' allowed.")
            users.append({"name": user["name"], "host": host, "readonly": bool(user.get("readonly"))})
        databases.append({"name": name, "character_set": charset, "comment": comment, "users": users})
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    job = await _operation(svc, instance, "CreateGaussDBforMySQLDatabase", {"databases": databases})
    return JSON({"job_id": job.id}, status_code=202)


async def create_users(request: Request) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/db-users (passwords kept only as hashes)."""
    body = await read_body(request)
    svc, project_id = await _project(request, body)
    users, secrets = [], {}
    for i, raw in enumerate(_list(parse_body(body), "users", 50)):
        item = _object(raw, f"users[{i}]")
        name = item.get("name")
        if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
            raise InvalidParameter(f"users[{i}].name: 1-32 letters, digits or '_'.")
        password = check_password(item.get("password"), f"users[{i}].password")
        if password == name:
            raise InvalidParameter(f"users[{i}].password: must differ from the user name.")
        hosts = item.get("hosts") or ["%"]
        if not isinstance(hosts, list) or not all(isinstance(h, str) and _HOST.fullmatch(h) for h in hosts):
            raise InvalidParameter(f"users[{i}].hosts: IPv4 addresses, '%' allowed.")
        grants = []
        for j, db in enumerate(item.get("databases") or []):
            db = _object(db, f"users[{i}].databases[{j}]")
            if not isinstance(db.get("name"), str) or not _DB_NAME.fullmatch(db["name"]):
                raise InvalidParameter(f"users[{i}].databases[{j}].name: a database name.")
            grants.append({"name": db["name"], "readonly": bool(db.get("readonly"))})
        users.append({"name": name, "hosts": hosts, "databases": grants})
        secrets[name] = native_password_hash(password)
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    if len(secrets) != len(users):
        raise InvalidParameter("users: each user name may appear once.")
    params = {"users": users, SECRETS: secrets}
    job = await _operation(svc, instance, "CreateGaussDBforMySQLDatabaseUser", params)
    return JSON({"job_id": job.id}, status_code=202)


async def reset_password(request: Request) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/password: at once, as the cloud does."""
    body = await read_body(request)
    svc, project_id = await _project(request, body)
    password = check_password(parse_body(body).get("password"))
    instance = await _instance(svc, project_id, request.path_params["instance_id"])
    await _require_ready(svc, instance)
    await _instances(svc).reset_root_password(instance, native_password_hash(password))
    return JSON({})
