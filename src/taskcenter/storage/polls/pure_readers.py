"""The poll readers in pure Python: _poll_readers.c's twin, for where the C is not built.

The same interface (_poll_readers.pyi) and the same outcomes: a batch's answers rendered byte for
byte as the C renders them (storage.polls.answer), the same strings for a batch that fails, the
batches queued behind a failed one failed with it, unrun, and the same refusals at submit().
tests/storage/test_poll_readers.py runs its suite over both and compares the two directly.

What differs is the cost. These threads take the GIL to run each lookup and to hand each batch
back, so they share the event loop's core time where the C threads ran beside it (README.md and
bench/NOTES.md say how much). They still keep the event loop from waiting on a database: SQLite
steps and libpq's network round trips run with the GIL released.

The event loop learns that a batch is done from a pipe (one byte a batch), which it watches as it
watched the eventfd, Linux's alone.

SQLite: one thread with its own read-only connection (Python's sqlite3), one lookup after another,
as the C does.

PostgreSQL: libpq, through psycopg's thin ``pq`` layer (psycopg[binary] brings its own libpq, so
nothing is compiled), one prepared statement per batch with the arrays sent and the rows read in
binary, as the C does. libpq rather than asyncpg on an event loop of the reader's own, because:
- the same URL means the same connection: libpq reads the URL as the C reader does, so
  ``options=-c ...`` works and a parameter libpq refuses stops the store from opening on both
  paths (asyncpg would take it as a server setting); and failures read the same, libpq's texts;
- it costs less: batches of 8 lookups by id among 100,000 jobs, one after another on one thread,
  each rendered by polls.answer, took 34-56 µs of the process's CPU a lookup with psycopg's pq and
  53-65 µs with asyncpg, whose event loop, protocol, records and datetimes all run on the reader's
  thread under the GIL (bench/poll_clients.py; bench/NOTES.md, 2026-12-01, a busy 2-core machine).
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import sqlite3
import struct
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from psycopg import pq

from taskcenter.storage import sql
from taskcenter.storage.polls.answer import render

SQL = sql.load(__name__)
MAX_WORKERS = 8
_NOT_RUN = "not run, an earlier batch failed: "
_INT64 = 2**64


class _Batch:
    __slots__ = ("answers", "error", "lookups", "number")

    def __init__(self, number: int, lookups: list[tuple[str | int, ...]]) -> None:
        self.number = number
        self.lookups = lookups
        self.answers: list[bytes | None] = [None] * len(lookups)
        self.error: str | None = None

    def fail(self, message: str) -> None:
        self.error = message or "database error"


class _Driver(ABC):
    """How a batch runs: on one worker thread, with that worker's own connection."""

    @abstractmethod
    def run(self, batch: _Batch) -> None:
        """Fills the batch's answers, or fails it."""

    @abstractmethod
    def close(self) -> None:
        """After the worker's thread has stopped."""


class _Queues:
    """The batches and threads of one reader. The threads hold this, not the reader: a reader
    dropped without close() is collected, and stops them (as the C reader's dealloc does)."""

    def __init__(self, drivers: list[_Driver], name: str) -> None:
        self.drivers = drivers
        self.wake = threading.Condition()
        self.todo: deque[_Batch] = deque()
        self.done: list[_Batch] = []
        self.stopping = False
        self.open = True
        self.submitted = 0
        self.signal_out, self.signal_in = os.pipe()
        os.set_blocking(self.signal_out, False)
        os.set_blocking(self.signal_in, False)
        self.threads = [
            threading.Thread(target=self.work, args=(driver,), name=f"{name}-{n}", daemon=True)
            for n, driver in enumerate(drivers)
        ]
        for thread in self.threads:
            thread.start()

    def work(self, driver: _Driver) -> None:
        while True:
            with self.wake:
                while not self.todo and not self.stopping:
                    self.wake.wait()
                if not self.todo:  # stopping, and nothing is left to run
                    return
                batch = self.todo.popleft()
            try:
                driver.run(batch)
            except MemoryError:
                batch.fail("out of memory")
            except Exception as exc:  # a bug here must fail the batch, not leave its polls waiting
                batch.fail(f"{type(exc).__name__}: {exc}")
            with self.wake:
                self.done.append(batch)
                if batch.error is not None:
                    # The batches behind it would meet the same fault, each after its own timeout
                    # (_poll_readers.c, fail_queued, says more).
                    for queued in self.todo:
                        queued.error = _NOT_RUN + batch.error
                    self.done += self.todo
                    self.todo.clear()
            # A full pipe is readable already; a closed one means no one is listening.
            with contextlib.suppress(OSError):
                os.write(self.signal_in, b"\1")

    def stop(self) -> None:
        """Lets the workers finish what was submitted, stops them and closes their connections."""
        self.open = False
        with self.wake:
            self.stopping = True
            self.wake.notify_all()
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join()
        for driver in self.drivers:
            driver.close()
        self.drivers = []
        if self.signal_out >= 0:
            os.close(self.signal_out)
            os.close(self.signal_in)
            self.signal_out = self.signal_in = -1


class _Reader:
    """submit(), collect(), fileno(), close(): _poll_readers.pyi and _poll_readers.c say what each does."""

    def __init__(self, drivers: list[_Driver], arity: int, name: str) -> None:
        self._arity = arity
        self._queues = _Queues(drivers, name)
        weakref.finalize(self, self._queues.stop)

    def submit(self, lookups: Iterable[tuple[str | int, ...]]) -> int:
        try:
            items = list(lookups)
        except TypeError:
            raise TypeError("submit() takes a list of tuples") from None
        queues = self._queues
        if not queues.open:
            raise ValueError("the reader is closed")
        # Checked and copied whole before any of it is queued, as the C copies its parameters.
        copied = [self._checked(lookup) for lookup in items]
        with queues.wake:
            queues.submitted += 1
            queues.todo.append(_Batch(queues.submitted, copied))
            queues.wake.notify()
            return queues.submitted

    def _checked(self, lookup: object) -> tuple[str | int, ...]:
        if not isinstance(lookup, tuple) or len(lookup) != self._arity:
            raise TypeError(f"each lookup must be a tuple of {self._arity} values")
        values: list[str | int] = []
        for value in lookup:
            if isinstance(value, str):
                value.encode()  # refuses what has no UTF-8 (a lone surrogate), as the C does
                values.append(str.__str__(value))
            elif isinstance(value, int):
                if not -(2**63) <= value < 2**63:
                    raise OverflowError("Python int too large to convert to C long long")
                values.append(int.__index__(value))
            else:
                raise TypeError("a lookup's values must be str or int")
        return tuple(values)

    def collect(self) -> list[tuple[int, list[bytes | None] | str]]:
        queues = self._queues
        if queues.signal_out >= 0:
            with contextlib.suppress(BlockingIOError):
                while os.read(queues.signal_out, 65536):
                    pass
        with queues.wake:
            finished, queues.done = queues.done, []
        return [(b.number, b.answers if b.error is None else b.error) for b in finished]

    def fileno(self) -> int:
        if not self._queues.open:
            raise ValueError("the reader is closed")
        return self._queues.signal_out

    def close(self) -> None:
        self._queues.stop()


# ---------------------------------------------------------------------------------------- SQLite


class SqliteReader(_Reader):
    """One thread and read-only connection; each lookup binds one statement, whose row is the shown
    columns: id, name, status, created_us, ended_us, progress, instance_id, instance_name,
    entities, fail_reason."""

    def __init__(self, path: str, setup: str, query: str) -> None:
        driver = _SqliteDriver(path, setup, query)
        super().__init__([driver], driver.arity, "taskcenter-polls-sqlite")


class _SqliteDriver(_Driver):
    def __init__(self, path: str, setup: str, query: str) -> None:
        self._query = query
        try:
            self._db = sqlite3.connect(
                Path(path).absolute().as_uri() + "?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise RuntimeError(f"SQLite reader: {exc}") from None
        try:
            self._db.text_factory = bytes  # the texts as stored; polls.answer renders them
            self._db.executescript(setup)
            self.arity = _parameter_count(self._db, query)
        except sqlite3.Error as exc:
            self._db.close()
            raise RuntimeError(f"SQLite reader: {exc}") from None

    def run(self, batch: _Batch) -> None:
        for index, lookup in enumerate(batch.lookups):
            try:
                cursor = self._db.execute(self._query, lookup)
                try:
                    row = cursor.fetchone()
                finally:
                    # Reset at once: it ends the statement's read transaction, which would
                    # otherwise hold back WAL checkpoints and hide later commits.
                    cursor.close()
                if row is not None:
                    batch.answers[index] = self._answer(row)
            except sqlite3.Error as exc:
                batch.fail(str(exc))
                return

    def _answer(self, row: tuple[object, ...]) -> bytes:
        job_id, name, status, created, ended, progress, instance_id, instance_name, entities, fail_reason = (
            row
        )
        return render(
            self._text(job_id),
            self._text(name),
            self._text(status),
            self._integer(created),
            None if ended is None else self._integer(ended),
            _signed(self._integer(progress), 32),  # sqlite3_column_int
            self._text(instance_id),
            self._text(instance_name),
            self._text(entities),
            self._text(fail_reason),
        )

    # A value of another type than the column's is converted as sqlite3_column_text and
    # sqlite3_column_int64 convert it in the C: by SQLite itself. Only a hand edit of the file
    # puts one there (the jobs table's columns convert on the way in).

    def _text(self, value: object) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        converted: bytes = self._db.execute(SQL["as_text"], (value,)).fetchone()[0]
        return converted

    def _integer(self, value: object) -> int:
        if isinstance(value, int):
            return value
        if value is None:
            return 0
        converted: int = self._db.execute(SQL["as_integer"], (value,)).fetchone()[0]
        return converted

    def close(self) -> None:
        self._db.close()


def _parameter_count(db: sqlite3.Connection, query: str) -> int:
    """The statement's parameters (sqlite3_bind_parameter_count, which Python does not offer):
    the number that binds. EXPLAIN compiles the statement without running it; an error in it (an
    unknown table, say) is raised on the first try."""
    for count in range(1000):
        try:
            db.execute(SQL["explain"] + " " + query, (None,) * count).close()
        except sqlite3.ProgrammingError:  # not this number of parameters
            continue
        return count
    raise sqlite3.ProgrammingError("the poll statement takes no number of parameters up to 999")


# ------------------------------------------------------------------------------------ PostgreSQL

# The lookups' (job id, project, visible since in µs) as three arrays in PostgreSQL's binary
# format, as _poll_readers.c sends them; a value not of its array's kind is a NULL element.
_PG_ARITY = 3
_OID_TEXT, _OID_TIMESTAMPTZ, _OID_UUID = 25, 1184, 2950
_PG_EPOCH_US = 946_684_800_000_000  # from the Unix epoch to PostgreSQL's (2000-01-01)
_NULL_ELEMENT = struct.pack("!i", -1)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The statement's rows: (lookup index int4, id text, name, status, created_at timestamptz,
# ended_at, progress int2, instance_id, instance_name, entities json, fail_reason), in binary.
_PG_WIDTHS = (4, -1, -1, -1, 8, 8, 2, -1, -1, -1, -1)
# As the C reader connects (pg_ready): bounds on connecting and on a silent peer, so that an
# unreachable host fails a batch in seconds, not after TCP's minutes.
_CONNECT_SECONDS = 10
_POLL_SETTINGS = {
    "connect_timeout": "10",
    "tcp_user_timeout": "10000",
    "application_name": "taskcenter-polls",
}


class PostgresReader(_Reader):
    """Threads with a libpq connection each; one statement per batch, whose parameters are arrays
    of the lookups' values and whose rows are (lookup index, shown columns)."""

    def __init__(self, conninfo: str, setup: str, query: str, workers: int) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"workers must be 1 to {MAX_WORKERS}")
        drivers: list[_Driver] = [
            _PostgresDriver(_poll_conninfo(conninfo), setup.encode(), query.encode()) for _ in range(workers)
        ]
        super().__init__(drivers, _PG_ARITY, "taskcenter-polls-postgres")


def _poll_conninfo(conninfo: str) -> bytes:
    """The store's URL with the settings above after its own, which they override (as
    PQconnectdbParams' later keywords override an expanded URL's in the C)."""
    if conninfo.startswith(("postgresql://", "postgres://")):
        url = conninfo.rstrip("?&")
        return (
            url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in _POLL_SETTINGS.items())
        ).encode()
    if "=" not in conninfo:  # a database's name alone, which libpq does not expand
        conninfo = "dbname='" + conninfo.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return (conninfo + "".join(f" {k}={v}" for k, v in _POLL_SETTINGS.items())).encode()


class _PostgresDriver(_Driver):
    def __init__(self, conninfo: bytes, setup: bytes, query: bytes) -> None:
        self._conninfo = conninfo
        self._setup = setup
        self._query = query
        self._pg: pq.abc.PGconn | None = None  # connected on the worker's first batch

    def run(self, batch: _Batch) -> None:
        if not batch.lookups:
            return  # nothing to ask
        result = self._execute(batch)
        if result is None:
            return
        try:
            self._read(batch, result)
        finally:
            result.clear()

    def _read(self, batch: _Batch, result: pq.abc.PGresult) -> None:
        if result.nfields != len(_PG_WIDTHS):
            batch.fail("the poll statement must return 11 columns")
            return
        for row in range(result.ntuples):
            values = [result.get_value(row, column) for column in range(len(_PG_WIDTHS))]
            for value, width in zip(values, _PG_WIDTHS, strict=True):
                if value is not None and width > 0 and len(value) != width:
                    batch.fail("the poll statement returned a column of an unexpected type")
                    return
            (
                index_value,
                job_id,
                name,
                status,
                created,
                ended,
                progress,
                instance_id,
                name_,
                entities,
                fail,
            ) = values
            if index_value is None:
                continue
            index = _signed(int.from_bytes(index_value), 32)
            if not 0 <= index < len(batch.lookups):
                continue
            batch.answers[index] = render(
                job_id,
                name,
                status,
                _signed(int.from_bytes(created or b"") + _PG_EPOCH_US, 64),
                None if ended is None else _signed(int.from_bytes(ended) + _PG_EPOCH_US, 64),
                _signed(int.from_bytes(progress or b""), 16),
                instance_id,
                name_,
                entities,
                fail,
            )

    def _execute(self, batch: _Batch) -> pq.abc.PGresult | None:
        """The batch's statement run, on a new connection if need be: its rows, or None with the
        batch failed."""
        arrays = [
            _array(batch.lookups, p, oid) for p, oid in enumerate((_OID_UUID, _OID_TEXT, _OID_TIMESTAMPTZ))
        ]
        for attempt in range(2):
            reused = self._pg is not None and self._pg.status == pq.ConnStatus.OK
            pg = self._ready(batch)
            if pg is None:
                return None
            result = pg.exec_prepared(b"poll", arrays, [1] * _PG_ARITY, 1)
            if result.status == pq.ExecStatus.TUPLES_OK:
                return result
            # A connection that died while idle (a restarted server, a terminated backend) is
            # found out only now: the lookups only read, so they run once more on a new one.
            retry = reused and attempt == 0 and pg.status == pq.ConnStatus.BAD
            if not retry:
                batch.fail(_text(result.error_message or pg.error_message))
            result.clear()
            if not retry:
                return None
        return None

    def _ready(self, batch: _Batch) -> pq.abc.PGconn | None:
        """A healthy connection, connected anew if need be: after a failure the next batch tries
        again, so polls recover by themselves when the database comes back."""
        if self._pg is not None and self._pg.status == pq.ConnStatus.OK:
            return self._pg
        self.close()
        pg = pq.PGconn.connect_start(self._conninfo)
        try:
            if _connected(pg) and self._prepared(pg):
                self._pg = pg
                return pg
            batch.fail(_text(pg.error_message))
        except TimeoutError:
            batch.fail(_server(pg) + "timeout expired\n")
        pg.finish()
        return None

    def _prepared(self, pg: pq.abc.PGconn) -> bool:
        setup = pg.exec_(self._setup)
        ok = setup.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.EMPTY_QUERY)
        setup.clear()
        if ok:
            prepared = pg.prepare(b"poll", self._query)
            ok = prepared.status == pq.ExecStatus.COMMAND_OK
            prepared.clear()
        return ok

    def close(self) -> None:
        if self._pg is not None:
            self._pg.finish()
        self._pg = None


def _connected(pg: pq.abc.PGconn) -> bool:
    """Whether libpq's connection came up, made step by step: waiting on its socket releases the
    GIL, where psycopg's blocking connect holds it throughout (libpq's own steps, among them the
    resolving of a host name, still run under it). TimeoutError after _CONNECT_SECONDS."""
    deadline = time.monotonic() + _CONNECT_SECONDS
    status = pq.PollingStatus.WRITING
    while pg.status != pq.ConnStatus.BAD and status != pq.PollingStatus.FAILED:
        if status == pq.PollingStatus.OK:
            return True
        event = selectors.EVENT_READ if status == pq.PollingStatus.READING else selectors.EVENT_WRITE
        with selectors.DefaultSelector() as selector:
            selector.register(pg.socket, event)
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError
        status = pq.PollingStatus(pg.connect_poll())
    return False


def _server(pg: pq.abc.PGconn) -> str:
    """Where a connection failed, as libpq's own wait (the C reader's) names it."""
    host, address, port = (_text(value or b"") for value in (pg.host, pg.hostaddr, pg.port))
    if host.startswith("/"):
        return f'connection to server on socket "{host}/.s.PGSQL.{port}" failed: '
    if address and address != host:
        return f'connection to server at "{host}" ({address}), port {port} failed: '
    return f'connection to server at "{host}", port {port} failed: '


def _array(lookups: list[tuple[str | int, ...]], p: int, oid: int) -> bytes:
    """A one-dimensional array of the lookups' ``p``-th values (_poll_readers.c, pg_array)."""
    parts = [struct.pack("!iiIii", 1, 0, oid, len(lookups), 1)]
    for lookup in lookups:
        value = lookup[p]
        if oid == _OID_UUID and isinstance(value, str) and _UUID.fullmatch(value):
            parts += (b"\0\0\0\x10", bytes.fromhex(value.replace("-", "")))
        elif oid == _OID_TEXT and isinstance(value, str):
            text = value.encode()
            parts += (struct.pack("!i", len(text)), text)
        elif oid == _OID_TIMESTAMPTZ and isinstance(value, int):
            parts.append(struct.pack("!iQ", 8, (value - _PG_EPOCH_US) % _INT64))
        else:
            parts.append(_NULL_ELEMENT)
    return b"".join(parts)


def _signed(value: int, bits: int) -> int:
    """The low ``bits`` of ``value`` as a two's complement integer, as C's casts read them."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _text(message: bytes) -> str:
    return message.decode("utf-8", "replace")
