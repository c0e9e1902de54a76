"""`taskcenter serve` and `taskcenter worker`: the API and the job engine."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
import uvloop
from rich.console import Console
from rich.panel import Panel

from taskcenter import __version__
from taskcenter.api.app import create_app
from taskcenter.api.protocol import HttpProtocol
from taskcenter.cli.common import (
    DEFAULT_DATA_DIR,
    CommandError,
    ConfigFile,
    DatabaseUrl,
    DataDir,
    ExitCode,
    fail,
    store_location,
)
from taskcenter.cli.instances import report_running_servers
from taskcenter.domain.clock import system_clock
from taskcenter.engine.registry import Registry, load_registry
from taskcenter.engine.runner import engine_running
from taskcenter.engine.worker import InvalidConfig, WorkerConfig
from taskcenter.identity.accounts import bootstrap_admin
from taskcenter.mariadb.handlers import SERVICE
from taskcenter.mariadb.service import InstanceService
from taskcenter.ports import Store
from taskcenter.storage.factory import open_store

log = logging.getLogger("taskcenter")


def _announce_admin(credentials_json: dict[str, str]) -> None:
    console = Console(stderr=False)
    lines = "\n".join(f"{k:<11} {v}" for k, v in credentials_json.items())
    console.print(
        Panel(
            f"{lines}\n\nShown once: save them now (the password is kept only as a hash).\n"
            "Lost them? `taskcenter admin credentials rotate` on this store prints new ones.",
            title="taskcenter: admin account created",
        )
    )


Host = Annotated[str, typer.Option(envvar="TASKCENTER_HOST", help="Address to listen on.")]
Port = Annotated[int, typer.Option(envvar="TASKCENTER_PORT", help="Port to listen on.")]
RetentionDays = Annotated[
    int, typer.Option(envvar="TASKCENTER_RETENTION_DAYS", help="Days a finished job stays visible.")
]
Workers = Annotated[
    bool,
    typer.Option("--workers/--no-workers", envvar="TASKCENTER_WORKERS", help="Run jobs in this process too."),
]
Handlers = Annotated[
    list[str] | None,
    typer.Option(
        "--handlers",
        envvar="TASKCENTER_HANDLERS",
        help="A module whose `registry` adds job handlers (repeatable).",
    ),
]
Concurrency = Annotated[
    int, typer.Option(envvar="TASKCENTER_CONCURRENCY", help="Jobs one worker runs at once.")
]
LeaseSeconds = Annotated[
    int,
    typer.Option(
        envvar="TASKCENTER_LEASE_SECONDS",
        help="A running job's lease; a lost worker's jobs are rescued after it.",
    ),
]
GraceSeconds = Annotated[
    float,
    typer.Option(
        envvar="TASKCENTER_GRACE_SECONDS",
        help="On SIGTERM, how long running jobs get to finish before hand-back.",
    ),
]
CheckSeconds = Annotated[
    float,
    typer.Option(
        envvar="TASKCENTER_CHECK_SECONDS",
        help="Seconds between maintenance rounds (rescue of lost jobs, purge).",
    ),
]
AccessLog = Annotated[bool, typer.Option(envvar="TASKCENTER_ACCESS_LOG", help="Log every request.")]
LogLevel = Annotated[str, typer.Option(envvar="TASKCENTER_LOG_LEVEL")]


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _listen(host: str, port: int) -> list[socket.socket]:
    """The listening sockets for host:port, bound before anything else is created.

    As asyncio's create_server binds them (one per address the host resolves to), so a port
    that is taken stops the start before the store, the admin account or a worker exist.
    """
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --host (or TASKCENTER_HOST)")
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(addresses):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(2048)  # uvicorn's default backlog
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(
                f"cannot listen on {host}:{port}: the port is already in use; "
                "choose another with --port (or TASKCENTER_PORT, or port in the config file)"
            )
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    return sockets


def _check_store(database_url: str | None, data_dir: Path) -> str:
    """Where the store is, once it opened and migrated; else one clear line and exit."""
    try:
        where = store_location(database_url, data_dir)
    except CommandError as exc:
        fail(str(exc), exc.code)

    async def preflight() -> None:
        await (await open_store(database_url, data_dir)).close()

    try:
        asyncio.run(preflight())
    except Exception as exc:
        fail(f"cannot open the store at {where}: {exc}")
    return where


def _registry(modules: list[str] | None) -> Registry:
    try:
        return load_registry(modules or [])
    except (ImportError, ValueError) as exc:
        fail(f"cannot load handlers: {exc}", ExitCode.USAGE)


# The flag that sets each WorkerConfig setting (its environment variable and config key follow it).
_FLAGS = {
    "concurrency": "--concurrency",
    "lease": "--lease-seconds",
    "grace": "--grace-seconds",
    "maintenance_interval": "--check-seconds",
}


def _worker_config(
    concurrency: int, lease_seconds: int, grace_seconds: float, check_seconds: float
) -> WorkerConfig:
    try:
        return WorkerConfig(
            concurrency,
            timedelta(seconds=lease_seconds),
            grace=grace_seconds,
            maintenance_interval=check_seconds,
        )
    except InvalidConfig as exc:
        fail(exc.naming(_FLAGS[exc.setting]), ExitCode.USAGE)


@asynccontextmanager
async def _engine_with_instances(
    store: Store, registry: Registry, retention: timedelta, config: WorkerConfig, root: Path
) -> AsyncIterator[None]:
    """The worker and maintenance, with the MariaDB instances of ``root`` re-adopted first.

    At stop, once the engine stopped, it says how many instance servers keep running. Here,
    not after uvicorn's run(): that re-raises the SIGTERM it caught, so nothing after it runs.
    """
    service = InstanceService(store, system_clock, root)
    await service.reconcile()
    try:
        async with engine_running(store, registry, None, retention, config, {SERVICE: service}):
            janitor = asyncio.create_task(_clean_up_dead_creates(service, config.maintenance_interval * 6))
            try:
                yield
            finally:
                janitor.cancel()
    finally:
        report_running_servers(root)


async def _clean_up_dead_creates(service: InstanceService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await service.clean_up_dead_creates()
        except Exception:
            log.exception("cleaning up dead instance creates failed; retrying")


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8080,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    retention_days: RetentionDays = 30,
    workers: Workers = True,
    handlers: Handlers = None,
    concurrency: Concurrency = 10,
    lease_seconds: LeaseSeconds = 30,
    grace_seconds: GraceSeconds = 30.0,
    check_seconds: CheckSeconds = 5.0,
    access_log: AccessLog = False,
    log_level: LogLevel = "info",
    config_file: ConfigFile = None,
) -> None:
    """Run the task-center API (and, unless --no-workers, a worker and maintenance).

    At stop it says how many MariaDB instance servers keep running: they are detached by
    design (the next start adopts them); `taskcenter instances stop-all` stops them.
    """
    _setup_logging(log_level)
    config = _worker_config(concurrency, lease_seconds, grace_seconds, check_seconds)
    sockets = _listen(host, port)  # first: a taken port must stop the start before anything exists
    registry = _registry(handlers)
    where = _check_store(database_url, data_dir)
    admin_password = os.environ.get("TASKCENTER_ADMIN_PASSWORD") or None
    retention = timedelta(days=retention_days)

    async def on_ready(store: Store) -> None:
        created = await bootstrap_admin(store, admin_password)
        if created is not None:
            shown = created.as_json()
            if admin_password:
                shown["password"] = "(from TASKCENTER_ADMIN_PASSWORD)"  # noqa: S105
            _announce_admin(shown)
        log.info(
            "taskcenter %s ready: store %s, retention %d days, workers %s, http://%s:%d",
            __version__, where, retention_days, "on" if workers else "off", host, port,
        )  # fmt: skip

    instances_root = data_dir.resolve() / "instances"
    application = create_app(
        lambda: open_store(database_url, data_dir),
        retention=retention,
        on_ready=on_ready,
        registry=registry,
        companion=(
            (lambda store: _engine_with_instances(store, registry, retention, config, instances_root))
            if workers
            else None
        ),
        instances_root=instances_root,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host=host,
            port=port,
            loop="uvloop",
            http=HttpProtocol,
            ws="none",  # no WebSocket routes: an Upgrade request is answered as HTTP/1.1
            access_log=access_log,
            log_level=log_level.lower(),
            lifespan="on",
        )
    )
    server.run(sockets=sockets)
    if not server.started:
        sys.exit(ExitCode.STARTUP)


def worker(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    retention_days: RetentionDays = 30,
    handlers: Handlers = None,
    concurrency: Concurrency = 10,
    lease_seconds: LeaseSeconds = 30,
    grace_seconds: GraceSeconds = 30.0,
    check_seconds: CheckSeconds = 5.0,
    log_level: LogLevel = "info",
    config_file: ConfigFile = None,
) -> None:
    """Run a standalone worker (and its share of maintenance); any number may share PostgreSQL.

    Like serve, it says at stop how many MariaDB instance servers keep running.
    """
    _setup_logging(log_level)
    config = _worker_config(concurrency, lease_seconds, grace_seconds, check_seconds)
    registry = _registry(handlers)
    where = _check_store(database_url, data_dir)

    root = data_dir.resolve() / "instances"

    async def run() -> None:
        store = await open_store(database_url, data_dir)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            retention = timedelta(days=retention_days)
            async with _engine_with_instances(store, registry, retention, config, root):
                log.info("taskcenter %s worker on %s; SIGTERM stops it gracefully", __version__, where)
                await stop.wait()
                log.info("stopping: no new jobs; running ones get %ss", grace_seconds)
        finally:
            await store.close()

    uvloop.run(run())
