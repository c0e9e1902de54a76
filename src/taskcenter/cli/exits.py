"""How a command ends: its exit codes, and a failure as one line on stderr."""

from __future__ import annotations

from enum import IntEnum
from typing import NoReturn

import typer


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
