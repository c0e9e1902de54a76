"""Projects, users and the admin's credentials, straight on the store (no running service needed).

Whoever can open the store (the machine's operator) can list and delete projects and mint new
credentials: that is how the admin secrets printed once at first start are recovered.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from taskcenter.cli.exits import CommandError, ExitCode
from taskcenter.cli.options import DEFAULT_DATA_DIR, ConfigFile, DatabaseUrl, DataDir
from taskcenter.cli.store import with_store
from taskcenter.identity import accounts
from taskcenter.identity.authenticator import CACHE_SECONDS
from taskcenter.ports import ProjectSummary, Store

T = TypeVar("T")

project_app = typer.Typer(help="Manage projects (tenants).", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
admin_app = typer.Typer(help="The admin user (created at first start).", no_args_is_help=True)
credentials_app = typer.Typer(help="The admin's password and access key pair.", no_args_is_help=True)
admin_app.add_typer(credentials_app, name="credentials")

_CACHE_NOTE = (
    f"note: a running taskcenter may still honour the old credentials for up to {CACHE_SECONDS:.0f} s "
    "(it caches tokens and access keys that long)"
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _on_store(
    database_url: str | None, data_dir: Path, action: Callable[[Store], Awaitable[T]], *, existing: bool
) -> T:
    """``action`` on the store, the account errors turned into one line and an exit code."""

    async def guarded(store: Store) -> T:
        try:
            return await action(store)
        except (accounts.NameTaken, accounts.UnknownName, accounts.Refused) as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:  # an invalid name
            raise CommandError(str(exc), ExitCode.USAGE) from None

    return with_store(database_url, data_dir, guarded, existing=existing)


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Argument(help="Project name; its user gets the same name.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Create a project with one user and an access key; print them as one JSON object."""

    async def create(store: Store) -> dict[str, str]:
        return (await accounts.create_project(store, name)).as_json()

    typer.echo(json.dumps(_on_store(database_url, data_dir, create, existing=False)))


@project_app.command("list")
def project_list(
    output: Annotated[OutputFormat, typer.Option("--format", help="A table, or a JSON array.")] = (
        OutputFormat.table
    ),
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """List the projects, oldest first: id, name, users, created."""

    async def listing(store: Store) -> list[ProjectSummary]:
        return await store.list_projects()

    projects = _on_store(database_url, data_dir, listing, existing=True)
    created = [p.created.strftime("%Y-%m-%dT%H:%M:%SZ") for p in projects]
    if output is OutputFormat.json:
        typer.echo(
            json.dumps(
                [
                    {"id": p.id, "name": p.name, "users": list(p.users), "created": when}
                    for p, when in zip(projects, created, strict=True)
                ]
            )
        )
        return
    table = [
        ("ID", "NAME", "USERS", "CREATED"),
        *((p.id, p.name, ",".join(p.users), when) for p, when in zip(projects, created, strict=True)),
    ]
    widths = [max(len(row[column]) for row in table) for column in range(4)]
    for row in table:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@project_app.command("delete")
def project_delete(
    name: Annotated[str, typer.Argument(help="The project's name.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Delete a project with its users, access keys and tokens.

    Refused while it has instances not deleted or jobs not ended. Its ended jobs stay
    visible to nobody and are purged with the retention; its backups' files stay on disk.
    """

    async def delete(store: Store) -> None:
        await accounts.delete_project(store, name)

    _on_store(database_url, data_dir, delete, existing=True)
    typer.echo(f"deleted project {name!r} with its users, access keys and tokens")
    typer.echo(_CACHE_NOTE, err=True)


@user_app.command("reset-password")
def user_reset_password(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Give the user a new password, printed once as JSON; the user's tokens stop working."""

    async def reset(store: Store) -> str:
        return await accounts.reset_password(store, name)

    password = _on_store(database_url, data_dir, reset, existing=True)
    typer.echo(json.dumps({"user": name, "password": password}))
    typer.echo(_CACHE_NOTE, err=True)


@credentials_app.command("rotate")
def admin_credentials_rotate(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """New password and access key pair for the admin, printed once as JSON (as project create).

    The old key, password and tokens stop working. This is how lost admin secrets are recovered.
    """

    async def rotate(store: Store) -> dict[str, str]:
        return (await accounts.rotate_admin_credentials(store)).as_json()

    typer.echo(json.dumps(_on_store(database_url, data_dir, rotate, existing=True)))
    typer.echo(_CACHE_NOTE, err=True)
