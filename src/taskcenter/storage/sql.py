"""Named SQL queries, read once at import from a dialect's ``sql/<module>.sql`` files.

A file holds blocks that each start with a ``-- name: <name>`` line (procrastinate's
``sql/queries.sql``; River's ``river_job.sql`` per driver); the block is the query, its
whole-line comments left out. A module of a dialect's package reads the file of its own name
(``storage/sqlite/jobs.py``: ``storage/sqlite/sql/jobs.sql``) and uses its queries as
``SQL["name"]``; tests/storage/test_sql_files.py holds each file and its module to each other.

A list's optional filters are composed from fixed fragments of the same file (Filters), never
from input: values are always bind parameters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

_NAME = re.compile(r"^-- name: ([a-z][a-z0-9_]*)[ \t]*$", re.MULTILINE)
_COMMENT_LINE = re.compile(r"^[ \t]*--.*\n?", re.MULTILINE)
# A numbered parameter: SQLite's ?N, PostgreSQL's $N.
_PARAMETER = re.compile(r"([?$])(\d+)")
FILTERS = "/* filters */"


class Queries(Mapping[str, str]):
    """One file's queries by name."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self._queries: dict[str, str] = {}
        names = list(_NAME.finditer(text))
        if _COMMENT_LINE.sub("", text[: names[0].start() if names else len(text)]).strip():
            raise ValueError(f"{source}: SQL before the first '-- name:' line")
        for match, following in zip(names, [*names[1:], None], strict=True):
            body = text[match.end() : following.start() if following else len(text)]
            query = _COMMENT_LINE.sub("", body).strip().rstrip(";").strip()
            if match[1] in self._queries:
                raise ValueError(f"{source}: the query {match[1]} is named twice")
            if not query:
                raise ValueError(f"{source}: the query {match[1]} is empty")
            self._queries[match[1]] = query

    def __getitem__(self, name: str) -> str:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"{self.source} has no query named {name}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)


def load(module: str) -> Queries:
    """The queries of the module named ``module`` (its ``__name__``): ``sql/<last part>.sql``
    beside it."""
    package, _, name = module.rpartition(".")
    path = resources.files(package) / "sql" / f"{name}.sql"
    return Queries(f"{package.replace('.', '/')}/sql/{name}.sql", path.read_text("utf-8"))


class Filters:
    """The optional conditions of a list, from fixed fragments and their bind parameters.

    A fragment numbers its own parameters from 1 (``?1`` or ``$1``); composed into a statement,
    they follow the statement's own parameters and those of the fragments before it.
    """

    def __init__(self) -> None:
        self._fragments: list[str] = []
        self.args: list[Any] = []

    def add(self, fragment: str, *args: Any) -> None:
        self._fragments.append(fragment)
        self.args.extend(args)

    def into(self, statement: str) -> str:
        """``statement`` with the conditions ANDed in at its ``/* filters */`` mark."""
        if statement.count(FILTERS) != 1:
            raise ValueError("a statement with filters must hold the /* filters */ mark once")
        taken = max((int(m[2]) for m in _PARAMETER.finditer(statement)), default=0)
        conditions = []
        for fragment in self._fragments:
            conditions.append(" AND " + _PARAMETER.sub(functools.partial(_shifted, taken), fragment))
            taken += max((int(m[2]) for m in _PARAMETER.finditer(fragment)), default=0)
        return statement.replace(FILTERS, "".join(conditions))


def _shifted(by: int, parameter: re.Match[str]) -> str:
    return f"{parameter[1]}{by + int(parameter[2])}"
