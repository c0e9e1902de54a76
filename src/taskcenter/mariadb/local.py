"""One MariaDB server process: its files, its start and stop, and SQL through its socket.

The server's life goes through the Debian packages' own programs (mariadb-install-db, mariadbd,
mariadb-dump, and mariadb to load a dump), so what runs is what an operator would run by hand.
Statements go through a driver (PyMySQL), which sends their values as escaped parameters
(``taskcenter.mariadb.sql``), on a thread of this module's own so that the event loop never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

from taskcenter.mariadb.sql import Statement

INSTALL_HINT = "install it with: apt-get install -y mariadb-server mariadb-client"
CONNECT_TIMEOUT = 5  # seconds; the socket is local: a server that does not answer by then is stuck
STATEMENT_TIMEOUT = 120  # seconds for one statement's answer (the statements are small DDL)

# Statements block their thread until the server answers: they get threads of their own, so a
# stuck server never holds the default executor that other parts (password checks) use.
_STATEMENTS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="mariadb-sql")


class ServerError(Exception):
    """A step on a server failed; the message says what to do about it."""


def missing_programs() -> list[str]:
    return [p for p in ("mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump") if not _which(p)]


def _which(program: str) -> str | None:
    # TASKCENTER_MARIADB_PATH overrides where the MariaDB programs are looked for; by default
    # PATH, then Debian's /usr/sbin (not on every user's PATH) and /usr/bin.
    search = os.environ.get("TASKCENTER_MARIADB_PATH")
    if search is not None:
        return shutil.which(program, path=search)
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")


def _program(name: str) -> str:
    found = _which(name)
    if found is None:
        raise ServerError(f"{name} is not installed; {INSTALL_HINT}")
    return found


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 now (the server binds it moments later)."""
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
            return port
    except OSError as exc:
        raise ServerError(f"no free TCP port on 127.0.0.1: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ServerSettings:
    port: int
    buffer_pool_mb: int
    max_connections: int
    # None: left to MariaDB (servers created before these were recorded keep what they had).
    utc_offset: str | None = None  # '+08:00'
    lower_case_table_names: int | None = None  # read at initialisation: must never change after
    binlog: bool = False


@dataclass(frozen=True, slots=True)
class LocalServer:
    home: Path  # everything of this instance lives here

    @property
    def datadir(self) -> Path:
        return self.home / "data"

    @property
    def socket(self) -> Path:
        # Unix socket paths are limited to 107 bytes; data dirs can be deep, so sockets live in a
        # short directory of their own, named after the instance.
        short = Path(tempfile.gettempdir()) / "taskcenter-sockets" / f"{self.home.name}.sock"
        short.parent.mkdir(mode=0o700, exist_ok=True)
        return short

    @property
    def pidfile(self) -> Path:
        return self.home / "mysqld.pid"

    @property
    def logfile(self) -> Path:
        return self.home / "error.log"

    @property
    def config(self) -> Path:
        return self.home / "my.cnf"

    def write_config(self, settings: ServerSettings) -> None:
        (self.home / "tmp").mkdir(parents=True, exist_ok=True)
        lines = [
            "[mysqld]",
            f"datadir={self.datadir}",
            f"socket={self.socket}",
            f"pid-file={self.pidfile}",
            f"log-error={self.logfile}",
            # Its own temporary directory: servers bootstrapping at once clash in a shared /tmp.
            f"tmpdir={self.home / 'tmp'}",
            f"port={settings.port}",
            "bind-address=127.0.0.1",
            "skip-name-resolve",
            f"innodb_buffer_pool_size={settings.buffer_pool_mb}M",
            f"max_connections={settings.max_connections}",
            "innodb_log_file_size=16M",
        ]
        if settings.utc_offset is not None:
            lines.append(f"default-time-zone={settings.utc_offset}")
        if settings.lower_case_table_names is not None:
            lines.append(f"lower_case_table_names={settings.lower_case_table_names}")
        if settings.binlog:
            lines += ["log-bin=binlog", "binlog_format=ROW"]
        if os.geteuid() == 0:
            lines.append("user=root")
        self.config.write_text("\n".join(lines) + "\n")

    async def install(self) -> None:
        """A fresh data directory (mariadb-install-db)."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        try:
            await _run(
                [_program("mariadb-install-db"), f"--defaults-file={self.config}", "--skip-test-db",
                 "--auth-root-authentication-method=socket"],
                "mariadb-install-db",
            )  # fmt: skip
        except ServerError as exc:
            raise ServerError(f"mariadb-install-db failed. {self.log_tail()}") from exc

    def pid(self) -> int | None:
        """The server's pid if it is running (checked against /proc, not just the pid file)."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"mariadbd" in cmdline or b"mysqld" in cmdline else None

    async def start(self, timeout: float = 60) -> None:
        """Start the server, detached from taskcenter (it outlives a taskcenter restart)."""
        if self.pid() is not None:
            return
        with self.logfile.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                _program("mariadbd"), f"--defaults-file={self.config}",
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if process.returncode is not None:
                raise ServerError(f"the server exited with code {process.returncode}. {self.log_tail()}")
            if self.socket.exists() and await self.ping():
                # Reap it in the background if it ever exits while taskcenter runs.
                asyncio.get_running_loop().create_task(process.wait())
                return
            await asyncio.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        raise ServerError(f"the server did not start within {timeout:.0f} s. {self.log_tail()}")

    async def stop(self, timeout: float = 60) -> None:
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = asyncio.get_running_loop().time() + timeout
        while self.pid() is not None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.5)

    async def ping(self) -> bool:
        try:
            await self.sql(Statement("SELECT 1"))
        except ServerError:
            return False
        return True

    async def sql(self, *statements: Statement) -> list[tuple[Any, ...]]:
        """Run ``statements`` in order, on one connection; the rows the last one returned.

        As the local administrator: the operating-system user taskcenter runs as, which the
        server knows by the socket's peer (the unix_socket authentication mariadb-install-db set
        up), with no password. Each statement commits on its own (account and database
        statements commit anyway); the first that fails stops the rest.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_STATEMENTS, self._run_statements, statements)

    def _run_statements(self, statements: Sequence[Statement]) -> list[tuple[Any, ...]]:
        try:
            # No TLS on a local socket: PyMySQL would otherwise build a TLS context to try it,
            # loading the system's CA store each time (80 ms of a 90 ms statement, measured).
            connection = pymysql.connect(
                unix_socket=str(self.socket), user=getpass.getuser(), charset="utf8mb4",
                autocommit=True, ssl_disabled=True, connect_timeout=CONNECT_TIMEOUT,
                read_timeout=STATEMENT_TIMEOUT, write_timeout=STATEMENT_TIMEOUT,
            )  # fmt: skip
            with connection, connection.cursor() as cursor:
                rows: list[tuple[Any, ...]] = []
                for statement in statements:
                    # Always with a tuple, even empty: the template is then always read in the
                    # format style, so a quoted identifier's doubled '%' means one '%'.
                    cursor.execute(statement.template, statement.values)
                    rows = list(cursor.fetchall())
                return rows
        except pymysql.MySQLError as exc:
            raise ServerError(f"SQL on the server failed: {_describe(exc)}") from exc

    async def dump(self, target: Path) -> None:
        """A consistent logical backup of every database (one InnoDB snapshot)."""
        with target.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                _program("mariadb-dump"), f"--socket={self.socket}",
                f"--user={getpass.getuser()}", "--single-transaction", "--routines", "--events",
                "--all-databases", stdout=out, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await process.communicate()
        if process.returncode != 0:
            raise ServerError(f"mariadb-dump failed: {err.decode(errors='replace').strip()[-500:]}")

    async def load(self, source: Path) -> None:
        with source.open("rb") as data:
            process = await asyncio.create_subprocess_exec(
                _program("mariadb"), f"--socket={self.socket}", f"--user={getpass.getuser()}",
                stdin=data, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await process.communicate()
        if process.returncode != 0:
            raise ServerError(f"loading the backup failed: {err.decode(errors='replace').strip()[-500:]}")

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        self.socket.unlink(missing_ok=True)

    def log_tail(self, lines: int = 8) -> str:
        try:
            tail = self.logfile.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return "(no server log)"
        return "Server log: " + " | ".join(tail)


def _describe(exc: pymysql.MySQLError) -> str:
    """MariaDB's error number and message (PyMySQL's args), as the mariadb client shows them."""
    if len(exc.args) == 2:
        return f"ERROR {exc.args[0]}: {exc.args[1]}"
    return str(exc) or type(exc).__name__


async def _run(argv: list[str], what: str) -> str:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        raise ServerError(f"{what} is not installed; {INSTALL_HINT}") from None
    out, err = await process.communicate()
    if process.returncode != 0:
        message = (err or out).decode(errors="replace").strip()[-500:]
        raise ServerError(f"{what} failed (exit {process.returncode}): {message}")
    return out.decode(errors="replace")


def running_servers(root: Path) -> list[LocalServer]:
    """The servers under ``root`` (a node's ``<data-dir>/instances``) whose process runs."""
    if not root.is_dir():
        return []
    servers = (LocalServer(home) for home in sorted(root.iterdir()) if home.is_dir())
    return [server for server in servers if server.pid() is not None]
