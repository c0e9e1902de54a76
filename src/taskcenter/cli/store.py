"""The store as a command meets it: where it is, opened for an action, a failure as one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from taskcenter import wiring
from taskcenter.cli.exits import CommandError, ExitCode, fail
from taskcenter.ports import Store

T = TypeVar("T")


def store_location(database_url: str | None, data_dir: Path) -> str:
    """Where the store is (no password), or a usage error for an unsupported URL."""
    try:
        return wiring.store_location(database_url, data_dir)
    except ValueError as exc:
        raise CommandError(str(exc), ExitCode.USAGE) from None


def check_store(database_url: str | None, data_dir: Path) -> str:
    """Where the store is, once it opened and migrated; else one clear line and exit."""
    try:
        where = store_location(database_url, data_dir)
    except CommandError as exc:
        fail(str(exc), exc.code)

    async def preflight() -> None:
        await (await wiring.open_store(database_url, data_dir)).close()

    try:
        asyncio.run(preflight())
    except Exception as exc:
        fail(f"cannot open the store at {where}: {exc}")
    return where


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
                store = await wiring.open_store(database_url, data_dir)
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
