"""The TaurusDB instance operations as engine job handlers."""

from __future__ import annotations

from typing import cast

from taskcenter.engine.context import JobContext
from taskcenter.engine.errors import PermanentFailure
from taskcenter.engine.registry import Registry
from taskcenter.mariadb.service import InstanceService

registry = Registry()
SERVICE = "instances"  # the resource name under which the process provides its InstanceService


def _service(ctx: JobContext) -> InstanceService:
    service = ctx.resources.get(SERVICE)
    if service is None:
        raise PermanentFailure("This worker does not run TaurusDB instances (no instance service).")
    return cast(InstanceService, service)


# None of these is retry-safe: a half-done create or resize is cleaned up or left for a person,
# never silently run twice.
@registry.register("CreateGaussDBforMySQLInstance", internal=True)
async def create_instance(ctx: JobContext) -> None:
    await _service(ctx).create(ctx)


@registry.register("RestoreGaussDBforMySQLNewInstance", internal=True)
async def restore_new_instance(ctx: JobContext) -> None:
    await _service(ctx).create(ctx)


@registry.register("DeleteGaussDBforMySQLInstance", internal=True)
async def delete_instance(ctx: JobContext) -> None:
    await _service(ctx).delete(ctx)


@registry.register("RebootGaussDBforMySQLInstance", internal=True)
async def reboot_instance(ctx: JobContext) -> None:
    await _service(ctx).restart(ctx)


@registry.register("ResizeGaussDBforMySQLFlavor", internal=True)
async def resize_flavor(ctx: JobContext) -> None:
    await _service(ctx).resize(ctx)


@registry.register("CreateGaussDBforMySQLBackup", internal=True)
async def create_backup(ctx: JobContext) -> None:
    await _service(ctx).backup(ctx)


@registry.register("CreateGaussDBforMySQLDatabase", internal=True)
async def create_databases(ctx: JobContext) -> None:
    await _service(ctx).create_databases(ctx)


@registry.register("CreateGaussDBforMySQLDatabaseUser", internal=True)
async def create_users(ctx: JobContext) -> None:
    await _service(ctx).create_users(ctx)
