"""The optional TOML config file: a default for any option of any command.

A key is an option's long name without its dashes (``data-dir``, ``port``, ``workers``). A key
at the top of the file applies to every command that has that option; a key in a command's
table (``[serve]``, ``[worker]``, ``[project.list]``, ``[instances.stop-all]``) applies to that
command only and wins over the top. A group's table (``[project]``) applies to its commands.

The file only supplies defaults: click looks a value up on the command line, then in the
option's environment variable, then in the file (the context's ``default_map``), then takes
the built-in default. So a flag wins over the environment, which wins over the file.
"""

from __future__ import annotations

import tomllib
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup, TyperOption

if TYPE_CHECKING:  # typer carries its own click; its classes are only named for the types
    from typer._click.core import Command, Context

_NOT_IN_FILE = {"config", "help", "version"}


class ConfigError(ValueError):
    """What is wrong with the file, naming the key."""


def apply_config_file(ctx: typer.Context, path: Path | None) -> Path | None:
    """The --config option's callback: runs before the command's other options are read."""
    if path is None or ctx.resilient_parsing:
        return path
    try:
        with path.open("rb") as file:
            table = tomllib.load(file)
        root = ctx.find_root().command
        check(table, root)
    except OSError as exc:
        _refuse(path, f"cannot be read: {exc.strerror or exc}")
    except tomllib.TOMLDecodeError as exc:
        _refuse(path, f"is not valid TOML: {exc}")
    except ConfigError as exc:
        _refuse(path, str(exc))
    ctx.default_map = {**(ctx.default_map or {}), **defaults_for(table, _command_path(ctx), ctx.command)}
    return path


def _refuse(path: Path, problem: str) -> NoReturn:
    typer.echo(f"error: config file {path}: {problem}", err=True)
    raise typer.Exit(2)  # ExitCode.USAGE


def check(table: dict[str, Any], group: Command, prefix: str = "") -> None:
    """Every key names a command below ``group`` or an option one of them has, with its type."""
    commands = group.commands if isinstance(group, TyperGroup) else {}
    options = _options_below(group)
    for key, value in table.items():
        name = f"{prefix}{key}"
        if key in commands:
            if not isinstance(value, dict):
                raise ConfigError(f"{name!r} must be a table ([{name}]) of {name}'s options")
            check(value, commands[key], f"{name}.")
        elif key in options:
            _check_type(name, value, options[key])
        else:
            hint = key.replace("_", "-")
            known = f" (did you mean {prefix}{hint!r}?)" if hint != key and hint in options else ""
            raise ConfigError(f"unknown key {name!r}{known}")


def defaults_for(table: dict[str, Any], path: list[str], command: Command) -> dict[str, Any]:
    """The defaults (by parameter name) the file gives ``command``, found at ``path``.

    Keys at the top first, then each table on the way down: the innermost wins.
    """
    options = _options_below(command)
    defaults: dict[str, Any] = {}
    level: dict[str, Any] = table
    for part in [*path, None]:
        for key, value in level.items():
            if key in options:
                defaults[str(options[key].name)] = value
        if part is None:
            break
        level = level.get(part, {})
    return defaults


def _command_path(ctx: Context) -> list[str]:
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return names[::-1]


def _options_below(command: Command) -> dict[str, TyperOption]:
    """The options of ``command`` or of any command below it, by their long name."""
    if isinstance(command, TyperGroup):
        found: dict[str, TyperOption] = {}
        for sub in command.commands.values():
            found.update(_options_below(sub))
        return found
    options = {}
    for param in command.params:
        if isinstance(param, TyperOption):
            key = next(o for o in param.opts if o.startswith("--")).removeprefix("--")
            if key not in _NOT_IN_FILE:
                options[key] = param
    return options


def _check_type(name: str, value: Any, option: TyperOption) -> None:
    kind: Any = option.type_descriptor.annotation
    if option.multiple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name!r} must be an array of strings, not {_toml_type(value)}")
        return
    if kind is bool:
        ok, wanted = isinstance(value, bool), "true or false"
    elif kind is int:
        ok, wanted = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif kind is float:
        ok, wanted = isinstance(value, int | float) and not isinstance(value, bool), "a number"
    else:  # str, Path, an Enum's values
        ok, wanted = isinstance(value, str), "a string"
    if not ok:
        raise ConfigError(f"{name!r} must be {wanted}, not {_toml_type(value)}")
    if isinstance(kind, type) and issubclass(kind, Enum) and value not in {m.value for m in kind}:
        choices = ", ".join(str(m.value) for m in kind)
        raise ConfigError(f"{name!r} must be one of {choices}, not {value!r}")


def _toml_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}
    for kind, text in names.items():
        if isinstance(value, kind):
            return f"{text} ({value!r})" if kind is not list else text
    return "a table" if isinstance(value, dict) else "a date or time"
