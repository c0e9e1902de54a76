"""The MariaDB servers of this machine's instances: what keeps running at stop, and stop-all.

Instance servers are detached from taskcenter by design: they survive a restart of serve or
worker, which adopts them at its next start. So a stop says how many keep running, and
`taskcenter instances stop-all` stops them, with the local driver's own stop (SIGTERM, then
SIGKILL after a minute).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from taskcenter.cli.common import DEFAULT_DATA_DIR, ConfigFile, DataDir, fail
from taskcenter.mariadb.local import LocalServer

log = logging.getLogger("taskcenter")
instances_app = typer.Typer(help="The MariaDB servers of this machine's instances.", no_args_is_help=True)


def running_servers(root: Path) -> list[LocalServer]:
    """The instance servers under ``root`` (``<data-dir>/instances``) whose process runs."""
    if not root.is_dir():
        return []
    servers = (LocalServer(home) for home in sorted(root.iterdir()) if home.is_dir())
    return [server for server in servers if server.pid() is not None]


def report_running_servers(root: Path) -> None:
    """At stop: how many instance servers keep running, and how to stop them."""
    running = len(running_servers(root))
    if running == 0:
        log.info("stopping: no MariaDB instance server runs under %s", root)
        return
    log.warning(
        "stopping: %s %s running under %s (detached by design: the next start adopts them); "
        "`taskcenter instances stop-all --data-dir %s` stops them",
        _servers(running), "keeps" if running == 1 else "keep", root, root.parent,
    )  # fmt: skip


@instances_app.command("stop-all")
def stop_all(data_dir: DataDir = DEFAULT_DATA_DIR, config_file: ConfigFile = None) -> None:
    """Stop every MariaDB server of the data dir's instances; run it once taskcenter is stopped.

    The instances' records and files stay: the next `taskcenter serve` (or `worker`) starts the
    servers of normal instances again. While taskcenter runs, a stopped server shows abnormal.
    """
    if not data_dir.is_dir():
        fail(
            f"there is no data directory at {data_dir.resolve()}: give the --data-dir "
            "(or TASKCENTER_DATA_DIR) that `taskcenter serve` uses"
        )
    root = data_dir.resolve() / "instances"

    async def stop() -> None:
        await asyncio.gather(*(server.stop() for server in servers))

    try:
        servers = running_servers(root)
        asyncio.run(stop())
    except OSError as exc:  # a server run by another user, an unreadable directory
        fail(f"cannot stop the servers under {root}: {exc}")
    still = [server.home.name for server in servers if server.pid() is not None]
    if still:
        fail(f"these instances' servers did not stop: {', '.join(still)}")
    typer.echo(f"stopped {_servers(len(servers))} under {root}")


def _servers(n: int) -> str:
    return f"{n} MariaDB instance server" + ("" if n == 1 else "s")
