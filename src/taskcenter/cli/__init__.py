"""The taskcenter command: serve the API, run workers, manage projects, users and instances.

The commands parse options and call ``taskcenter.wiring``, which assembles the parts (serve,
worker) and opens the store (the project, user and admin commands).
"""

from __future__ import annotations

from typing import Annotated

import typer

from taskcenter import __version__
from taskcenter.cli.accounts import admin_app, project_app, user_app
from taskcenter.cli.instances import instances_app
from taskcenter.cli.serve import serve
from taskcenter.cli.worker import worker

HELP = """taskcenter: the TaurusDB task center, self-hosted.

Options come from, in this order: the command line; the option's environment variable
(shown in each command's --help, e.g. TASKCENTER_PORT); a TOML config file given with
--config or TASKCENTER_CONFIG (none by default); the built-in default. So a flag wins over
the environment, which wins over the file.

Exit codes: 0 done; 1 it could not be done (the store cannot be opened, the port is taken,
an unknown name, a project still in use); 2 wrong usage (options, arguments, the config file,
the database URL); 3 serve failed while starting (the log says why).
"""


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"taskcenter {__version__}")
        raise typer.Exit()


app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
) -> None:
    pass


app.command()(serve)
app.command()(worker)
app.add_typer(project_app, name="project")
app.add_typer(user_app, name="user")
app.add_typer(admin_app, name="admin")
app.add_typer(instances_app, name="instances")


def main() -> None:
    app()
