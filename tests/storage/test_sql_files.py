"""The stores' SQL lives in named-query files: every query a module uses is in its file, every
query of a file is used, and no SQL is left in Python strings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from taskcenter import storage
from taskcenter.storage import sql

STORAGE = Path(storage.__file__).parent
DIALECTS = ["sqlite", "postgres"]
PACKAGES = [*DIALECTS, "polls"]  # the packages whose modules run SQL
# A string that starts as SQL does (a command tag such as "UPDATE 1" is not SQL).
SQL_START = re.compile(
    r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|BEGIN|COMMIT|ROLLBACK|WITH|SET|EXPLAIN)\b"
    r"(?! \d+$)"
)


def modules_with_sql(package: str) -> dict[str, Path]:
    """The package's modules that load their queries (SQL = sql.load(__name__))."""
    return {
        path.stem: path
        for path in sorted((STORAGE / package).glob("*.py"))
        if "sql.load(__name__)" in path.read_text("utf-8")
    }


def used_names(module: Path) -> set[str]:
    """The names the module looks up as SQL["..."]; a lookup by anything but a literal fails."""
    names = set()
    for node in ast.walk(ast.parse(module.read_text("utf-8"))):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "SQL":
            assert isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str), (
                f"{module}:{node.lineno}: name queries literally, so that this test sees every use"
            )
            names.add(node.slice.value)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_every_sql_file_belongs_to_a_module_and_every_module_to_its_file(package: str) -> None:
    files = {path.stem for path in (STORAGE / package / "sql").glob("*.sql")}
    assert files == set(modules_with_sql(package))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_dialect_has_a_module_per_port(dialect: str) -> None:
    assert {"jobs", "engine", "instances", "identity", "database", "polls"} <= set(modules_with_sql(dialect))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_named_query_is_used_and_every_use_exists(package: str) -> None:
    for name, module in modules_with_sql(package).items():
        queries = sql.load(f"taskcenter.storage.{package}.{name}")
        used = used_names(module)
        assert sorted(used - set(queries)) == [], f"{module.name} uses queries its file lacks"
        assert sorted(set(queries) - used) == [], f"{package}/sql/{name}.sql has queries nothing uses"


def test_no_sql_is_left_in_python_strings() -> None:
    found = []
    for module in sorted(STORAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_START.match(node.value):
                found.append(f"{module.relative_to(STORAGE)}:{node.lineno}: {node.value[:40]!r}")
    assert found == []


def test_a_file_is_read_into_its_named_queries() -> None:
    queries = sql.Queries(
        "t.sql",
        "-- What the file holds.\n\n-- name: first\n-- Why it is so.\nSELECT 1\nFROM t;\n\n"
        "-- name: second\nPRAGMA a=1;\nPRAGMA b=2;\n",
    )
    assert dict(queries) == {"first": "SELECT 1\nFROM t", "second": "PRAGMA a=1;\nPRAGMA b=2"}
    with pytest.raises(KeyError, match=r"t\.sql has no query named third"):
        queries["third"]


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("SELECT 1;\n-- name: a\nSELECT 2;\n", "SQL before the first"),
        ("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n", "named twice"),
        ("-- name: a\n-- only a comment\n-- name: b\nSELECT 2;\n", "the query a is empty"),
    ],
)
def test_a_malformed_file_is_refused(text: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        sql.Queries("t.sql", text)


def test_filters_number_their_parameters_after_the_statements_own() -> None:
    filters = sql.Filters()
    assert filters.into("SELECT * FROM t WHERE a = $1 /* filters */ LIMIT $2") == (
        "SELECT * FROM t WHERE a = $1  LIMIT $2"
    )
    filters.add("b = $1", "B")
    filters.add("c BETWEEN $1 AND $2", 1, 2)
    filters.add("d = ?1", "D")
    assert filters.into("SELECT * FROM t WHERE a = $1 /* filters */ LIMIT $2") == (
        "SELECT * FROM t WHERE a = $1  AND b = $3 AND c BETWEEN $4 AND $5 AND d = ?6 LIMIT $2"
    )
    assert filters.args == ["B", 1, 2, "D"]
    with pytest.raises(ValueError, match="filters"):
        filters.into("SELECT 1")
