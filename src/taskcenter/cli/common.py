"""What every command shares: the store's options, one-line errors, exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import IntEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from taskcenter.cli.config import apply_config_file
from taskcenter.ports import Store
from taskcenter.storage.factory import describe, open_store

T = TypeVar("T")


class ExitCode(IntEnum):
    """What a command's exit status means (the README's table; click uses 2 for usage errors too)."""

    OK = 0
    FAILED = 1  # it could not be done: store unreachable, port taken, unknown name, project in use
    USAGE = 2  # wrong options or arguments, a bad config file, an unsupported database URL
    STARTUP = 3  # serve: the service failed while starting (uvicorn's code; the log says why)


class CommandError(Exception):
    """Ends the command with one line on stderr and ``code``."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: ExitCode = ExitCode.FAILED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


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


def store_location(database_url: str | None, data_dir: Path) -> str:
    """Where the store is (no password), or a usage error for an unsupported URL."""
    try:
        return describe(database_url, data_dir)
    except ValueError as exc:
        raise CommandError(str(exc), ExitCode.USAGE) from None


def with_store(
    database_url: str | None,
    data_dir: Path,
    action: Callable[[Store], Awaitable[T]],
    *,
    existing: bool = False,
) -> T:
    """Run ``action`` on the opened store; any failure is one line on stderr and an exit code.

    ``existing``: refuse to create an SQLite store (a command that reads one, given the wrong
    data dir, would otherwise make an empty one there and report that it is empty).
    """
    try:
        where = store_location(database_url, data_dir)
        local_file = Path(where.removeprefix("sqlite:///")) if where.startswith("sqlite:///") else None
        if existing and local_file is not None and not local_file.exists():
            raise CommandError(
                f"there is no store at {where}: give the --data-dir (or TASKCENTER_DATA_DIR) "
                "that `taskcenter serve` uses"
            )

        async def run() -> T:
            try:
                store = await open_store(database_url, data_dir)
            except Exception as exc:  # unreachable, refused, not migratable: one line, no traceback
                raise CommandError(f"cannot open the store at {where}: {exc}") from exc
            try:
                return await action(store)
            except CommandError:
                raise
            except Exception as exc:  # the store failed midway (connection lost, disk full, ...)
                raise CommandError(f"the store at {where} failed: {type(exc).__name__}: {exc}") from exc
            finally:
                await store.close()

        return asyncio.run(run())
    except CommandError as exc:
        fail(str(exc), exc.code)
