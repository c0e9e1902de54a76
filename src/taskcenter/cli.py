"""The taskcenter command: serve the API, create projects."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.panel import Panel

from taskcenter.api.app import create_app
from taskcenter.identity.accounts import NameTaken, bootstrap_admin, create_project
from taskcenter.storage import Store, open_store

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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    retention_days: Annotated[
        int, typer.Option(envvar="TASKCENTER_RETENTION_DAYS", help="Days a finished job is kept.")
    ] = 30,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    log_level: Annotated[str, typer.Option(envvar="TASKCENTER_LOG_LEVEL")] = "info",
) -> None:
    """Run the task-center API."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    admin_password = os.environ.get("TASKCENTER_ADMIN_PASSWORD") or None

    async def on_ready(store: Store) -> None:
        created = await bootstrap_admin(store, admin_password)
        if created is not None:
            shown = created.as_json()
            if admin_password:
                shown["password"] = "(from TASKCENTER_ADMIN_PASSWORD)"  # noqa: S105
            _announce_admin(shown)

    application = create_app(
        lambda: open_store(database_url, data_dir),
        retention=timedelta(days=retention_days),
        on_ready=on_ready,
    )
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level=log_level.lower(),
        lifespan="on",
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        sys.exit(1)


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Argument(help="Project name; its user gets the same name.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a project with one user and an access key; print them as one JSON object."""

    async def run() -> dict[str, str]:
        store = await open_store(database_url, data_dir)
        try:
            return (await create_project(store, name)).as_json()
        finally:
            await store.close()

    try:
        credentials = asyncio.run(run())
    except (NameTaken, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(credentials))


def main() -> None:
    app()
