"""Instance SQL on a real MariaDB server: hostile values and names arrive exactly as sent (slow)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.instance import native_password_hash
from taskcenter.domain.instance_requests import DatabaseRight, Grant, NewDatabase, NewUser
from taskcenter.mariadb.local import LocalServer, ServerSettings, free_port
from taskcenter.mariadb.sql import Statement, create_database, create_user, identifier

# Everything that ever broke or could break a quoted string: both quotes, a backtick, '%' and
# '%s' (PyMySQL's placeholders), backslash escapes, SQL comment and statement ends, characters
# beyond ASCII; and, last, a backslash that would escape the closing quote. (Not characters beyond
# U+FFFF: MariaDB keeps database comments in utf8mb3 and stores those as '?'.)
HOSTILE = "it's \"quoted\" `ticked` 100% %s \\n \\' -- ; /* 价格 ✓ C:\\dir\\"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One real server for the module (starting one takes seconds).

    Started and stopped on a loop of the fixture's own, which lives as long as the server: the
    loop that starts a server watches its process until it exits.
    """
    local = LocalServer(tmp_path_factory.mktemp("mariadb") / "sql-test")
    local.write_config(ServerSettings(free_port(), 64, 20))
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(local.install())
        loop.run_until_complete(local.start())
        yield local
    finally:
        loop.run_until_complete(local.stop())
        loop.run_until_complete(_reaped(loop))
        loop.close()
        local.remove()


async def _reaped(loop: asyncio.AbstractEventLoop) -> None:
    """Wait for the task that watched the server's process to see it exit."""
    others = asyncio.all_tasks(loop) - {asyncio.current_task(loop)}
    await asyncio.wait_for(asyncio.gather(*others), 10)


def read(server: LocalServer, query: str, *args: Any, **login: Any) -> list[tuple[Any, ...]]:
    """``query``'s rows over a connection of its own, as a client of the server sees them."""
    if not login:
        login = {"unix_socket": str(server.socket), "user": "root"}
    with pymysql.connect(charset="utf8mb4", **login) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return list(cur.fetchall())


def port_of(server: LocalServer) -> int:
    return int(next(line for line in server.config.read_text().splitlines() if line.startswith("port="))[5:])


async def test_a_database_keeps_a_hostile_comment_and_its_users_their_hosts_and_hashes(
    server: LocalServer,
) -> None:
    app_hash = native_password_hash("App-Passw0rd")
    app = NewUser("app_1", app_hash, ("127.0.0.1", "10.0.%.%"), (DatabaseRight("shop-1", readonly=True),))
    shop = NewDatabase("shop-1", "utf8mb4", HOSTILE)
    audit = NewDatabase("audit", "gbk", "%", (Grant("app_1", "127.0.0.1", readonly=False),))
    await server.sql(*create_database(shop))
    await server.sql(*create_user(app))
    await server.sql(*create_database(audit))

    rows = read(
        server,
        "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, SCHEMA_COMMENT FROM information_schema.SCHEMATA "
        "WHERE SCHEMA_NAME IN ('shop-1', 'audit') ORDER BY SCHEMA_NAME",
    )
    assert rows == [("audit", "gbk", "%"), ("shop-1", "utf8mb4", HOSTILE)]
    accounts = read(server, "SELECT Host, authentication_string FROM mysql.user WHERE User = 'app_1'")
    assert sorted(accounts) == [("10.0.%.%", app_hash), ("127.0.0.1", app_hash)]

    # The user logs in with its password, reads the database it was given read-only and writes
    # the one it was given whole.
    login = {"host": "127.0.0.1", "port": port_of(server), "user": "app_1", "password": "App-Passw0rd"}
    assert read(server, "SELECT DATABASE()", database="shop-1", **login) == [("shop-1",)]
    with pytest.raises(pymysql.err.OperationalError, match="denied"):
        read(server, "CREATE TABLE `shop-1`.t (id INT)", **login)
    read(server, "CREATE TABLE audit.t (id INT)", **login)


async def test_a_name_that_slipped_past_validation_stays_inside_its_quotes(server: LocalServer) -> None:
    # Not a name the API lets through: the quoting alone must hold it.
    name = "x`; DROP DATABASE mysql; -- %s '\\"
    await server.sql(Statement.of("CREATE DATABASE {} COMMENT %s", name, values=("kept",)))
    assert read(
        server, "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", name
    ) == [("kept",)]
    assert read(server, "SHOW DATABASES LIKE 'mysql'") == [("mysql",)]
    await server.sql(Statement.of("DROP DATABASE {}", name))


def test_names_are_quoted_as_identifiers_and_checked_by_the_apis_rules() -> None:
    assert identifier("a`b%c") == "`a``b%%c`"
    with pytest.raises(ValueError, match="NUL"):
        identifier("a\0b")
    with pytest.raises(InvalidParameter, match=r"databases\.name: must be 1-64"):
        create_database(NewDatabase("shop`", "utf8mb4"))
    with pytest.raises(InvalidParameter, match=r"users\.hosts: must be an IPv4"):
        create_user(NewUser("app", native_password_hash("App-Passw0rd"), ("evil.example",)))
    # A value is never part of the statement's text, only of its values.
    (statement,) = create_database(NewDatabase("shop", "utf8mb4", HOSTILE))
    assert HOSTILE not in statement.template and HOSTILE in statement.values
