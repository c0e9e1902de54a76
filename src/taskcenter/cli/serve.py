"""`taskcenter serve`: the API, and unless --no-workers a worker and maintenance beside it."""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from taskcenter import __version__, wiring
from taskcenter.cli.exits import ExitCode, fail
from taskcenter.cli.options import (
    DEFAULT_DATA_DIR,
    CheckSeconds,
    Concurrency,
    ConfigFile,
    DatabaseUrl,
    DataDir,
    GraceSeconds,
    Handlers,
    LeaseSeconds,
    LogLevel,
    RetentionDays,
    load_handlers,
    setup_logging,
    worker_config,
)
from taskcenter.cli.store import check_store
from taskcenter.identity.accounts import bootstrap_admin
from taskcenter.ports import Store

log = logging.getLogger("taskcenter")

Host = Annotated[str, typer.Option(envvar="TASKCENTER_HOST", help="Address to listen on.")]
Port = Annotated[int, typer.Option(envvar="TASKCENTER_PORT", help="Port to listen on.")]
Workers = Annotated[
    bool,
    typer.Option("--workers/--no-workers", envvar="TASKCENTER_WORKERS", help="Run jobs in this process too."),
]
AccessLog = Annotated[bool, typer.Option(envvar="TASKCENTER_ACCESS_LOG", help="Log every request.")]


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
    setup_logging(log_level)
    engine = worker_config(concurrency, lease_seconds, grace_seconds, check_seconds) if workers else None
    sockets = _listen(host, port)  # first: a taken port must stop the start before anything exists
    registry = load_handlers(handlers)
    where = check_store(database_url, data_dir)
    admin_password = os.environ.get("TASKCENTER_ADMIN_PASSWORD") or None

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

    application = wiring.http_app(
        lambda: wiring.open_store(database_url, data_dir),
        retention=timedelta(days=retention_days),
        registry=registry,
        on_ready=on_ready,
        engine=engine,
        instances_root=data_dir.resolve() / "instances",
    )
    server = wiring.http_server(application, host=host, port=port, access_log=access_log, log_level=log_level)
    server.run(sockets=sockets)
    if not server.started:
        sys.exit(ExitCode.STARTUP)
