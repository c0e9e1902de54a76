"""Which poll readers run the GET-by-id lookups: the C ones when built, else their Python twin.

As uvicorn picks its HTTP protocol (uvicorn/protocols/http/auto.py): the C extension
(_poll_readers.c) when it imports, the pure-Python one (pure_readers.py) otherwise, with the
same interface and the same answers. ``TASKCENTER_PURE_PYTHON=1`` in the environment picks the
Python one even where the C is built (to compare them: bench/get_by_id.py runs both). The C
extension is optional in the build (setup.py): without a compiler, its headers or Linux, taskcenter
installs and runs on the Python readers; README.md says what each costs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

PURE_PYTHON_VARIABLE = "TASKCENTER_PURE_PYTHON"

Collected = list[tuple[int, list[bytes | None] | str]]


class PollReader(Protocol):
    """Reader threads for batches of lookups (_poll_readers.pyi; _poll_readers.c says more)."""

    def submit(self, lookups: Sequence[tuple[str | int, ...]]) -> int:
        """Queues a batch; its number, which collect() reports it by."""
        ...

    def collect(self) -> Collected:
        """The finished batches: (number, an answer or None per lookup, or why the batch failed)."""
        ...

    def fileno(self) -> int:
        """A descriptor that is readable when a batch has finished."""
        ...

    def close(self) -> None:
        """Runs what was submitted, then stops; what finished can still be collected."""
        ...


class SqliteReaderType(Protocol):
    def __call__(self, path: str, setup: str, query: str) -> PollReader: ...


class PostgresReaderType(Protocol):
    def __call__(self, conninfo: str, setup: str, query: str, workers: int) -> PollReader: ...


@dataclass(frozen=True)
class Readers:
    """One implementation of the readers."""

    name: Literal["c", "python"]
    sqlite: SqliteReaderType
    postgres: PostgresReaderType


def c_readers() -> Readers:
    """The C readers; ImportError where the extension is not built."""
    from taskcenter.storage.polls import _poll_readers

    return Readers("c", _poll_readers.SqliteReader, _poll_readers.PostgresReader)


def python_readers() -> Readers:
    from taskcenter.storage.polls import pure_readers

    return Readers("python", pure_readers.SqliteReader, pure_readers.PostgresReader)


def _choose() -> Readers:
    if os.environ.get(PURE_PYTHON_VARIABLE) == "1":
        return python_readers()
    try:
        return c_readers()
    except ImportError:
        return python_readers()


# The stores' choice, made once at import. (Tests replace it to run a suite on each.)
CHOSEN = _choose()
