"""The options more than one command takes, and what they become (a handler registry, a
worker configuration, the log level)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from taskcenter.cli.config import apply_config_file
from taskcenter.cli.exits import ExitCode, fail
from taskcenter.engine.registry import Registry, load_registry
from taskcenter.engine.worker import InvalidConfig, WorkerConfig

DEFAULT_DATA_DIR = Path("taskcenter-data")
DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="TASKCENTER_DATA_DIR",
        help="Where the embedded SQLite store and the instances' files live.",
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
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="TASKCENTER_CONFIG",
        is_eager=True,
        callback=apply_config_file,
        help="A TOML file with defaults for any option (none by default). "
        "A flag wins over its environment variable, which wins over the file.",
    ),
]

# The engine's options, shared by serve and worker.
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
LogLevel = Annotated[str, typer.Option(envvar="TASKCENTER_LOG_LEVEL")]


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def load_handlers(modules: list[str] | None) -> Registry:
    """The built-in handlers and those of --handlers; modules that do not load are a usage error."""
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


def worker_config(
    concurrency: int, lease_seconds: int, grace_seconds: float, check_seconds: float
) -> WorkerConfig:
    """The engine's settings, or a usage error naming the option out of range and its range."""
    try:
        return WorkerConfig(
            concurrency,
            timedelta(seconds=lease_seconds),
            grace=grace_seconds,
            maintenance_interval=check_seconds,
        )
    except InvalidConfig as exc:
        fail(exc.naming(_FLAGS[exc.setting]), ExitCode.USAGE)
