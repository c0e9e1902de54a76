"""`taskcenter instances stop-all`: stop the MariaDB servers of this machine's instances.

Instance servers are detached from taskcenter by design: they survive a restart of serve or
worker, which adopts them at its next start and says at stop how many keep running. This command
stops them with the local driver's own stop (SIGTERM, then SIGKILL after a minute).
"""

from __future__ import annotations

import asyncio

import typer

from taskcenter.cli.exits import fail
from taskcenter.cli.options import DEFAULT_DATA_DIR, ConfigFile, DataDir
from taskcenter.mariadb.local import running_servers

instances_app = typer.Typer(help="The MariaDB servers of this machine's instances.", no_args_is_help=True)


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
