"""The taskcenter command: serve the API, create projects."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
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
from taskcenter.domain.clock import system_clock
from taskcenter.engine.registry import Registry, load_registry
from taskcenter.engine.runner import engine_running
from taskcenter.engine.worker import WorkerConfig
from taskcenter.identity.accounts import NameTaken, bootstrap_admin, create_project
from taskcenter.mariadb.handlers import SERVICE
from taskcenter.mariadb.service import InstanceService
from taskcenter.storage import Store, open_store
from taskcenter.storage.factory import describe

log = logging.getLogger("taskcenter")
app = typer.Typer(help="taskcenter: the TaurusDB task center, self-hosted.", no_args_is_help=True)
project_app = typer.Typer(help="Manage projects (tenants).", no_args_is_help=True)
app.add_typer(project_app, name="project")

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="TASKCENTER_DATA_DIR",
        help="Where the embedded SQLite store lives.",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="TASKCENTER_DATABASE_URL",
        help="postgresql://user@host:port/db for a shared store; default: SQLite in the data dir.",
    ),
]
DEFAULT_DATA_DIR = Path("taskcenter-data")


def _announce_admin(credentials_json: dict[str, str]) -> None:
    console = Console(stderr=False)
    lines = "\n".join(f"{k:<11} {v}" for k, v in credentials_json.items())
    console.print(
        Panel(
            f"{lines}\n\nShown once: save them now (the password is kept only as a hash).",
            title="taskcenter: admin account created",
        )
    )


RetentionDays = Annotated[
    int, typer.Option(envvar="TASKCENTER_RETENTION_DAYS", help="Days a finished job stays visible.")
]
Handlers = Annotated[
    list[str] | None,
    typer.Option(
        "--handlers",
        envvar="TASKCENTER_HANDLERS",
        help="A module whose `registry` adds job handlers (repeatable).",
    ),
]
Concurrency = Annotated[int, typer.Option(help="Jobs one worker runs at once.")]
LeaseSeconds = Annotated[
    int, typer.Option(help="A running job's lease; a lost worker's jobs are rescued after it.")
]
GraceSeconds = Annotated[
    float, typer.Option(help="On SIGTERM, how long running jobs get to finish before hand-back.")
]
CheckSeconds = Annotated[
    float, typer.Option(help="Seconds between maintenance rounds (rescue of lost jobs, purge).")
]
LogLevel = Annotated[str, typer.Option(envvar="TASKCENTER_LOG_LEVEL")]


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _check_store(database_url: str | None, data_dir: Path) -> str:
    """Where the store is, once it opened and migrated; else one clear line and exit."""
    try:
        where = describe(database_url, data_dir)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def preflight() -> None:
        await (await open_store(database_url, data_dir)).close()

    try:
        asyncio.run(preflight())
    except Exception as exc:
        typer.echo(f"error: cannot open the store at {where}: {exc}", err=True)
        raise typer.Exit(1) from None
    return where


def _registry(modules: list[str] | None) -> Registry:
    try:
        return load_registry(modules or [])
    except (ImportError, ValueError) as exc:
        typer.echo(f"error: cannot load handlers: {exc}", err=True)
        raise typer.Exit(2) from None


@asynccontextmanager
async def _engine_with_instances(
    store: Store, registry: Registry, retention: timedelta, config: WorkerConfig, root: Path
) -> AsyncIterator[None]:
    """The worker and maintenance, with the MariaDB instances of ``root`` re-adopted first."""
    service = InstanceService(store, system_clock, root)
    await service.reconcile()
    async with engine_running(store, registry, system_clock, retention, config, {SERVICE: service}):
        janitor = asyncio.create_task(_clean_up_dead_creates(service, config.maintenance_interval * 6))
        try:
            yield
        finally:
            janitor.cancel()


async def _clean_up_dead_creates(service: InstanceService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await service.clean_up_dead_creates()
        except Exception:
            log.exception("cleaning up dead instance creates failed; retrying")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    retention_days: RetentionDays = 30,
    workers: Annotated[
        bool, typer.Option("--workers/--no-workers", help="Run jobs in this process too.")
    ] = True,
    handlers: Handlers = None,
    concurrency: Concurrency = 10,
    lease_seconds: LeaseSeconds = 30,
    grace_seconds: GraceSeconds = 30.0,
    check_seconds: CheckSeconds = 5.0,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    log_level: LogLevel = "info",
) -> None:
    """Run the task-center API (and, unless --no-workers, a worker and maintenance)."""
    _setup_logging(log_level)
    where = _check_store(database_url, data_dir)
    registry = _registry(handlers)
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

    config = WorkerConfig(
        concurrency, timedelta(seconds=lease_seconds), grace=grace_seconds, maintenance_interval=check_seconds
    )
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
    server.run()
    if not server.started:
        sys.exit(1)


@app.command()
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
) -> None:
    """Run a standalone worker (and its share of maintenance); any number may share PostgreSQL."""
    _setup_logging(log_level)
    where = _check_store(database_url, data_dir)
    registry = _registry(handlers)
    config = WorkerConfig(
        concurrency, timedelta(seconds=lease_seconds), grace=grace_seconds, maintenance_interval=check_seconds
    )

    async def run() -> None:
        store = await open_store(database_url, data_dir)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            retention = timedelta(days=retention_days)
            root = data_dir.resolve() / "instances"
            async with _engine_with_instances(store, registry, retention, config, root):
                log.info("taskcenter %s worker on %s; SIGTERM stops it gracefully", __version__, where)
                await stop.wait()
                log.info("stopping: no new jobs; running ones get %ss", grace_seconds)
        finally:
            await store.close()

    uvloop.run(run())


class StoreUnavailable(Exception):
    """The store named on the command line could not be opened."""


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Argument(help="Project name; its user gets the same name.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a project with one user and an access key; print them as one JSON object."""

    async def run() -> dict[str, str]:
        try:
            store = await open_store(database_url, data_dir)
        except ValueError:
            raise
        except Exception as exc:  # unreachable, refused, not migratable: one line, no traceback
            where = describe(database_url, data_dir)
            raise StoreUnavailable(f"cannot open the store at {where}: {exc}") from exc
        try:
            return (await create_project(store, name)).as_json()
        finally:
            await store.close()

    try:
        credentials = asyncio.run(run())
    except (NameTaken, ValueError, StoreUnavailable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(credentials))


def main() -> None:
    app()
