"""The SQL taskcenter runs on an instance's server: statements a driver sends with their values.

Values (comments, character sets, user names and host patterns of accounts, password hashes)
are never written into the text: they go to the driver as parameters, and PyMySQL escapes
them, backslashes included (a comment ending in ``\\`` once escaped its own closing quote).
Database names are identifiers, which no driver can send as parameters: each is checked by the
rule the API applies to it, then quoted by ``identifier``, so that even a name that got past the
check cannot end its quoting. Templates are constants; ``Statement.of`` is the one place where
a name enters SQL text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from taskcenter.domain.instance_requests import (
    NewDatabase,
    NewUser,
    check_database_name,
    check_host,
    check_user_name,
)
from taskcenter.domain.problems import Problems


def identifier(name: str) -> str:
    """``name`` quoted as a MariaDB identifier, for a template run with parameters.

    Backticks are doubled, so the name cannot end its quoting; percent signs are doubled, so it
    cannot become (or shift) a ``%s`` placeholder of the template. A NUL cannot be part of an
    identifier at all.
    """
    if "\0" in name:
        raise ValueError("an identifier cannot hold a NUL character")
    return "`" + name.replace("`", "``").replace("%", "%%") + "`"


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: a template in PyMySQL's format style (``%s`` per value, ``%%`` for a
    literal ``%``) and its values, which the driver escapes."""

    template: str
    values: tuple[Any, ...] = field(default=(), repr=False)  # password hashes among them

    @classmethod
    def of(cls, template: str, *names: str, values: tuple[Any, ...] = ()) -> Statement:
        """``template`` with each ``{}`` replaced by the next of ``names``, quoted (``identifier``)."""
        return cls(template.format(*(identifier(name) for name in names)), values)


def _checked(check: Callable[[Problems, str, Any], Any], field: str, value: str) -> str:
    """``value`` if it passes the API's own check for ``field``; else InvalidParameter saying why."""
    problems = Problems()
    check(problems, field, value)
    problems.check()
    return value


_GRANT_READ = "GRANT SELECT ON {}.* TO %s@%s"
_GRANT_ALL = "GRANT ALL PRIVILEGES ON {}.* TO %s@%s"


def create_database(database: NewDatabase) -> list[Statement]:
    """The database, then the rights of the users named with it."""
    name = _checked(check_database_name, "databases.name", database.name)
    statements = [
        Statement.of(
            "CREATE DATABASE {} CHARACTER SET %s COMMENT %s",
            name,
            values=(database.character_set, database.comment),
        )
    ]
    for grant in database.users:
        user = _checked(check_user_name, "databases.users.name", grant.name)
        host = _checked(check_host, "databases.users.host", grant.host)
        template = _GRANT_READ if grant.readonly else _GRANT_ALL
        statements.append(Statement.of(template, name, values=(user, host)))
    return statements


def create_user(user: NewUser) -> list[Statement]:
    """The user at each of its hosts, with its rights on each of its databases."""
    name = _checked(check_user_name, "users.name", user.name)
    statements = []
    for pattern in user.hosts:
        host = _checked(check_host, "users.hosts", pattern)
        statements.append(
            Statement("CREATE USER %s@%s IDENTIFIED BY PASSWORD %s", (name, host, user.password_hash))
        )
        for right in user.databases:
            database = _checked(check_database_name, "users.databases.name", right.name)
            template = _GRANT_READ if right.readonly else _GRANT_ALL
            statements.append(Statement.of(template, database, values=(name, host)))
    return statements


def _root_at_localhost(password_hash: str) -> Statement:
    # The local administrator (taskcenter itself) keeps unix-socket login; clients use the hash.
    return Statement(
        "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING %s",
        (password_hash,),
    )


def create_root(password_hash: str) -> list[Statement]:
    """root for clients, from anywhere, with the mysql_native_password hash (never the password)."""
    return [
        Statement("CREATE USER 'root'@'%%' IDENTIFIED BY PASSWORD %s", (password_hash,)),
        Statement("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%%' WITH GRANT OPTION"),
        _root_at_localhost(password_hash),
    ]


def reset_root(password_hash: str) -> list[Statement]:
    return [
        Statement("ALTER USER 'root'@'%%' IDENTIFIED BY PASSWORD %s", (password_hash,)),
        _root_at_localhost(password_hash),
    ]
