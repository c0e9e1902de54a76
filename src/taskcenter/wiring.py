"""The one place that assembles taskcenter's parts: the store, the services the routes use, the
HTTP application and its server, the engine (a worker and maintenance) and this node's MariaDB
instances.

The commands in ``taskcenter.cli`` parse options and call these functions; the rooms they join
(api, engine, mariadb, identity, storage) know nothing of each other's assembly. import-linter
contracts in pyproject.toml hold it: no room imports this module or the command line, and the
command line builds no application, starts no engine and opens no storage engine itself.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from taskcenter import __version__
from taskcenter.api.app import create_app
from taskcenter.api.protocol import HttpProtocol
from taskcenter.api.services import Services
from taskcenter.domain.clock import Clock, system_clock
from taskcenter.engine.registry import Registry
from taskcenter.engine.runner import engine_running
from taskcenter.engine.worker import WorkerConfig
from taskcenter.identity.authenticator import Authenticator
from taskcenter.mariadb.handlers import SERVICE
from taskcenter.mariadb.local import running_servers
from taskcenter.mariadb.service import InstanceService
from taskcenter.ports import Store
from taskcenter.storage import factory

log = logging.getLogger("taskcenter")

StoreOpener = Callable[[], Awaitable[Store]]
DEFAULT_RETENTION = timedelta(days=30)


def store_location(database_url: str | None, data_dir: Path) -> str:
    """Where the store is, for logs and errors (never with a password); ValueError for a URL of
    no supported database."""
    return factory.describe(database_url, data_dir)


async def open_store(database_url: str | None, data_dir: Path) -> Store:
    """The store the URL names (PostgreSQL, or SQLite: the URL's file, else one in ``data_dir``),
    opened and migrated."""
    return await factory.open_store(database_url, data_dir)


def http_app(
    opener: StoreOpener,
    *,
    clock: Clock | None = None,
    retention: timedelta = DEFAULT_RETENTION,
    registry: Registry | None = None,
    on_ready: Callable[[Store], Awaitable[None]] | None = None,
    engine: WorkerConfig | None = None,
    instances_root: Path | None = None,
) -> ASGIApp:
    """The task-center API; ``opener`` opens its store inside the server's event loop at startup.

    ``registry`` says which job names workers run. ``on_ready`` runs once the store is open.
    ``engine``: a worker and maintenance run beside the API with this configuration for the
    server's lifetime, stopped before the store closes. ``instances_root``: where this node's
    MariaDB instances live (``<data-dir>/instances``); without it, the instance APIs say this
    node runs none and the engine gets no instance service. ``clock``: None in production (the
    system's clock for the API, the store's own clock for leases and leadership, so nodes' clocks
    never disagree about them); tests pin one clock for everything.
    """
    handlers = registry or Registry()
    api_clock = clock or system_clock

    @asynccontextmanager
    async def services() -> AsyncIterator[Services]:
        store = await opener()
        try:
            instances = None if instances_root is None else InstanceService(store, api_clock, instances_root)
            authenticator = Authenticator(store, api_clock)
            opened = Services(store, api_clock, authenticator, retention, handlers, instances)
            if on_ready is not None:
                await on_ready(store)
            async with AsyncExitStack() as beside:
                if engine is not None:
                    await beside.enter_async_context(
                        _engine(store, handlers, clock, retention, engine, instances)
                    )
                yield opened
        finally:
            await store.close()

    return create_app(services)


def http_server(app: ASGIApp, *, host: str, port: int, access_log: bool, log_level: str) -> uvicorn.Server:
    """uvicorn serving ``app`` on uvloop with taskcenter's HTTP/1.1 protocol (api/protocol.py)."""
    return uvicorn.Server(
        uvicorn.Config(
            app,
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


async def run_worker(
    opener: StoreOpener,
    *,
    registry: Registry,
    retention: timedelta,
    engine: WorkerConfig,
    instances_root: Path,
    where: str,
) -> None:
    """A standalone worker and its share of maintenance, with this node's MariaDB instances,
    until SIGTERM or SIGINT; then running jobs get ``engine.grace`` to finish."""
    store = await opener()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        instances = InstanceService(store, system_clock, instances_root)
        async with _engine(store, registry, None, retention, engine, instances):
            log.info("taskcenter %s worker on %s; SIGTERM stops it gracefully", __version__, where)
            await stop.wait()
            log.info("stopping: no new jobs; running ones get %ss", engine.grace)
    finally:
        await store.close()


@asynccontextmanager
async def _engine(
    store: Store,
    registry: Registry,
    clock: Clock | None,
    retention: timedelta,
    config: WorkerConfig,
    instances: InstanceService | None,
) -> AsyncIterator[None]:
    """The worker and maintenance; with ``instances``, their servers are adopted first.

    At stop, once the engine stopped, it says how many instance servers keep running. Here,
    not after uvicorn's run(): that re-raises the SIGTERM it caught, so nothing after it runs.
    """
    if instances is None:
        async with engine_running(store, registry, clock, retention, config):
            yield
        return
    await instances.reconcile()
    try:
        async with engine_running(store, registry, clock, retention, config, {SERVICE: instances}):
            janitor = asyncio.create_task(_clean_up_dead_creates(instances, config.maintenance_interval * 6))
            try:
                yield
            finally:
                janitor.cancel()
    finally:
        report_running_servers(instances.root)


async def _clean_up_dead_creates(service: InstanceService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await service.clean_up_dead_creates()
        except Exception:
            log.exception("cleaning up dead instance creates failed; retrying")


def report_running_servers(root: Path) -> None:
    """At stop: how many instance servers keep running, and how to stop them."""
    running = len(running_servers(root))
    if running == 0:
        log.info("stopping: no MariaDB instance server runs under %s", root)
        return
    servers = f"{running} MariaDB instance server" + ("" if running == 1 else "s")
    log.warning(
        "stopping: %s %s running under %s (detached by design: the next start adopts them); "
        "`taskcenter instances stop-all --data-dir %s` stops them",
        servers, "keeps" if running == 1 else "keep", root, root.parent,
    )  # fmt: skip
