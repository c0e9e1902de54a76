"""Instance operations as steps, each reported as a sub-task of the job running it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from taskcenter.domain.clock import Clock
from taskcenter.domain.errors import InvalidParameter, ServerUnavailable
from taskcenter.domain.instance import DATASTORE, ENGINE_VERSION, FLAVORS, DbInstance, InstanceStatus
from taskcenter.domain.instance_requests import DatabaseRight, Grant, NewDatabase, NewUser
from taskcenter.domain.job import SECRETS
from taskcenter.engine.context import JobContext
from taskcenter.engine.errors import PermanentFailure
from taskcenter.mariadb.local import (
    INSTALL_HINT,
    LocalServer,
    ServerError,
    ServerSettings,
    free_port,
    missing_programs,
)
from taskcenter.mariadb.sql import Statement, create_database, create_root, create_user, reset_root
from taskcenter.ports.instances import InstancesPort

log = logging.getLogger("taskcenter.mariadb")
T = TypeVar("T")


class Steps:
    """Runs named steps, each a sub-task: Running, then Completed, or Failed with the reason."""

    def __init__(self, ctx: JobContext, names: list[str]) -> None:
        self.ctx = ctx
        self.names = names
        self.done = 0

    async def begin(self) -> None:
        for name in self.names:
            await self.ctx.sub_task(name, 0, "Pending")

    async def run(self, name: str, action: Any) -> Any:
        await self.ctx.sub_task(name, 0, "Running")
        try:
            result = await action
        except (ServerError, OSError) as exc:
            # A file or process step of this machine failed: the step ends Failed with its reason,
            # never left Running behind a raw error.
            await self.ctx.sub_task(name, 0, "Failed")
            raise PermanentFailure(f"{name}: {exc}") from exc
        self.done += 1
        await self.ctx.sub_task(name, 100, "Completed", 0)
        await self.ctx.progress(int(self.done * 100 / len(self.names)))
        return result


class InstanceService:
    """Where instances live on disk, and the operations the job handlers run."""

    def __init__(self, store: InstancesPort, clock: Clock, root: Path) -> None:
        self.store = store
        self.clock = clock
        self.root = root

    def server(self, instance_id: str) -> LocalServer:
        return LocalServer(self.root / instance_id)

    def held_server(self, instance: DbInstance) -> LocalServer:
        """The server of an instance whose files this node holds; else the job fails saying so.

        Nodes sharing one PostgreSQL each keep their own data directory, and any of them may
        claim an instance's job; only the node that created the instance can run it. (Placing
        instances on hosts, and sending their jobs there, is not built yet.)
        """
        server = self.server(instance.id)
        if not server.home.is_dir():
            raise PermanentFailure(
                f"instance {instance.id} is not on this node: its files are under the data directory "
                f"of the node that created it, not in {self.root}. Run the operation on that node."
            )
        return server

    def backup_file(self, backup_id: str) -> Path:
        return self.root.parent / "backups" / f"{backup_id}.sql"

    def live_status(self, instance: DbInstance) -> str:
        """The stored status, except that a normal instance whose server is down is abnormal.

        Only an instance whose files are on this machine can be checked; for the others (run
        by a worker elsewhere) the stored status is all this node knows.
        """
        server = self.server(instance.id)
        if instance.status == InstanceStatus.NORMAL and server.home.exists() and server.pid() is None:
            return InstanceStatus.ABNORMAL
        return instance.status

    async def _instance(self, ctx: JobContext) -> DbInstance:
        instance = await self.store.get_instance(None, ctx.params["instance_id"])
        if instance is None:
            raise PermanentFailure(f"instance {ctx.params['instance_id']} no longer exists")
        return instance

    async def create(self, ctx: JobContext) -> None:
        instance = await self._instance(ctx)
        server = self.server(instance.id)
        steps = Steps(ctx, ["check MariaDB", "allocate port", "create data directory",
                            "start server", "set root password", "health check"])  # fmt: skip
        await steps.begin()
        try:
            await steps.run("check MariaDB", _check_installed())
            port = await steps.run("allocate port", _allocate())
            server.write_config(_settings(instance, port))
            await steps.run("create data directory", server.install())
            await steps.run("start server", server.start())
            root = create_root(ctx.params[SECRETS]["password_hash"])
            await steps.run("set root password", server.sql(*root))
            await steps.run("health check", server.sql(Statement("SELECT VERSION()")))
            if "restore_from" in ctx.params:
                await self._restore_into(ctx, server)
        except BaseException:
            await server.stop()
            server.remove()
            await self.store.update_instance(instance.id, self.clock(), status=InstanceStatus.CREATEFAIL)
            raise
        await self.store.update_instance(instance.id, self.clock(), status=InstanceStatus.NORMAL, port=port)
        await ctx.entities(
            {
                "instance": {
                    "endpoint": f"127.0.0.1:{port}",
                    "type": "Cluster",
                    "datastore": {"type": DATASTORE, "version": ENGINE_VERSION["name"]},
                },
                "resource_ids": [f"{instance.id}.vm", f"{instance.id}.volume"],
            }
        )

    async def _restore_into(self, ctx: JobContext, server: LocalServer) -> None:
        backup = Path(ctx.params["restore_from"])
        if not backup.exists():
            raise PermanentFailure(f"the backup file {backup.name} is gone")
        await ctx.sub_task("load backup", 0, "Running")
        try:
            await server.load(backup)
        except ServerError as exc:
            raise PermanentFailure(f"load backup: {exc}") from exc
        await ctx.sub_task("load backup", 100, "Completed", 0)

    async def delete(self, ctx: JobContext) -> None:
        instance = await self._instance(ctx)
        server = self.held_server(instance)
        steps = Steps(ctx, ["stop server", "remove data"])
        await steps.begin()
        await steps.run("stop server", server.stop())
        await steps.run("remove data", _remove(server))
        await self.store.update_instance(instance.id, self.clock(), status=InstanceStatus.DELETED)

    async def restart(self, ctx: JobContext) -> None:
        instance = await self._instance(ctx)
        server = self.held_server(instance)
        steps = Steps(ctx, ["stop server", "start server", "health check"])
        await steps.begin()
        await steps.run("stop server", server.stop())
        await steps.run("start server", server.start())
        await steps.run("health check", server.sql(Statement("SELECT 1")))
        await self.store.update_instance(instance.id, self.clock(), status=InstanceStatus.NORMAL)

    async def resize(self, ctx: JobContext) -> None:
        instance = await self._instance(ctx)
        server = self.held_server(instance)
        target = FLAVORS[ctx.params["flavor_ref"]]
        steps = Steps(ctx, ["apply flavor settings", "stop server", "start server", "health check"])
        await steps.begin()
        assert instance.port is not None
        resized = dataclasses.replace(instance, flavor_ref=target.spec_code)
        await steps.run("apply flavor settings", _write_config(server, _settings(resized, instance.port)))
        await steps.run("stop server", server.stop())
        await steps.run("start server", server.start())
        await steps.run(
            "health check", server.sql(Statement("SELECT @@innodb_buffer_pool_size, @@max_connections"))
        )
        await self.store.update_instance(
            instance.id, self.clock(), status=InstanceStatus.NORMAL, flavor_ref=target.spec_code
        )

    async def backup(self, ctx: JobContext) -> None:
        instance = await self._instance(ctx)
        record = await self.store.get_backup(instance.project_id, ctx.params["backup_id"])
        if record is None:
            raise PermanentFailure(f"backup {ctx.params['backup_id']} no longer exists")
        try:
            server = self.held_server(instance)
        except PermanentFailure:
            await self.store.save_backup(dataclasses.replace(record, status="FAILED", end=self.clock()))
            raise
        target = self.backup_file(record.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        steps = Steps(ctx, ["dump databases", "record backup"])
        await steps.begin()
        try:
            await steps.run("dump databases", server.dump(target))
        except BaseException:
            target.unlink(missing_ok=True)
            await self.store.save_backup(dataclasses.replace(record, status="FAILED", end=self.clock()))
            raise
        size = target.stat().st_size
        done = dataclasses.replace(record, status="COMPLETED", size_bytes=size, end=self.clock())
        await steps.run("record backup", self.store.save_backup(done))
        await ctx.entities({"backup": {"id": record.id, "name": record.name, "size": size}})

    async def create_databases(self, ctx: JobContext) -> None:
        instance = await self._instance(ctx)
        server = self.held_server(instance)
        databases = [
            NewDatabase(d["name"], d["character_set"], d.get("comment", ""),
                        tuple(Grant(**u) for u in d.get("users", [])))
            for d in ctx.params["databases"]
        ]  # fmt: skip
        statements = _statements(create_database, databases)
        steps = Steps(ctx, [f"create database {d.name}" for d in databases])
        await steps.begin()
        for database, its_statements in zip(databases, statements, strict=True):
            await steps.run(f"create database {database.name}", server.sql(*its_statements))

    async def create_users(self, ctx: JobContext) -> None:
        instance = await self._instance(ctx)
        server = self.held_server(instance)
        hashes = ctx.params[SECRETS]
        users = [
            NewUser(u["name"], hashes[u["name"]], tuple(u["hosts"]),
                    tuple(DatabaseRight(**d) for d in u["databases"]))
            for u in ctx.params["users"]
        ]  # fmt: skip
        statements = _statements(create_user, users)
        steps = Steps(ctx, [f"create user {u.name}" for u in users])
        await steps.begin()
        for user, its_statements in zip(users, statements, strict=True):
            await steps.run(f"create user {user.name}", server.sql(*its_statements))

    async def reset_root_password(self, instance: DbInstance, password_hash: str) -> None:
        server = self.server(instance.id)
        if not server.home.is_dir():
            raise ServerUnavailable(
                "The instance's server is on another node; send the request to the node that created it.",
                "该实例的服务器在另一个节点上；请将请求发送到创建它的节点。",
            )
        try:
            await server.sql(*reset_root(password_hash))
        except ServerError as exc:
            raise ServerUnavailable(
                f"the instance's server did not take the new password: {exc}",
                f"实例的服务器未接受新密码：{exc}",
            ) from exc

    async def clean_up_dead_creates(self) -> None:
        """Instances still creating whose create job ended without them (its worker died)."""
        for instance in await self.store.instances_with_status([InstanceStatus.CREATING]):
            if await self.store.unfinished_job_of_instance(instance.id) is not None:
                continue
            server = self.server(instance.id)
            await server.stop()
            server.remove()
            await self.store.update_instance(instance.id, self.clock(), status=InstanceStatus.CREATEFAIL)
            log.warning("instance %s: its create job ended without it; cleaned up (createfail)", instance.id)

    async def reconcile(self) -> None:
        """At start: restart or re-adopt every server this node holds; clean up broken creates.

        Nodes sharing one PostgreSQL see each other's instances; a node starts only the servers
        whose files are in its own data directory.
        """
        await self.clean_up_dead_creates()
        for instance in await self.store.instances_with_status([InstanceStatus.NORMAL]):
            server = self.server(instance.id)
            if not server.home.is_dir():
                log.debug("instance %s: held by another node, not reconciled here", instance.id)
                continue
            if server.pid() is not None:
                log.info("instance %s: server running (pid %s), adopted", instance.id, server.pid())
                continue
            try:
                await server.start()
                log.info("instance %s: server restarted", instance.id)
            except (ServerError, OSError) as exc:  # one broken server never stops the node
                log.error("instance %s: server does not start: %s", instance.id, exc)


async def _check_installed() -> None:
    missing = missing_programs()
    if missing:
        raise ServerError(f"MariaDB is not installed (missing {', '.join(missing)}); {INSTALL_HINT}")


async def _allocate() -> int:
    return free_port()


def _statements(build: Callable[[T], list[Statement]], items: list[T]) -> list[list[Statement]]:
    """Every item's statements, built before the first runs: a name the API's rules refuse
    (it cannot come through the API; only a job record changed behind it) fails the job whole."""
    try:
        return [build(item) for item in items]
    except InvalidParameter as exc:
        raise PermanentFailure(f"the job's parameters are not valid: {exc.detail}") from exc


async def _remove(server: LocalServer) -> None:
    server.remove()


async def _write_config(server: LocalServer, settings: ServerSettings) -> None:
    server.write_config(settings)


def _settings(instance: DbInstance, port: int) -> ServerSettings:
    """The server an instance asked for: its flavor, and the create request's server options."""
    flavor = instance.flavor
    return ServerSettings(
        port, flavor.buffer_pool_mb, flavor.max_connections,
        utc_offset=instance.utc_offset,
        lower_case_table_names=instance.lower_case_table_names,
        binlog=instance.binlog,
    )  # fmt: skip
