from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from taskcenter.ports import Store
from taskcenter.storage.postgres.store import PostgresStore
from taskcenter.storage.sqlite.store import SqliteStore
from tests.support import create_pg_database, drop_pg_database

# Whole suites marked slow here (one test is marked in its file): scripts/test, and so CI, leaves
# them out and scripts/test-slow runs them, so every test runs in one of the two. They are the
# longest to run and about parts few changes touch: installing without a compiler, the CLI's
# identity and config commands and its stop-all, MariaDB servers kept across restarts and nodes.
# The CLI's serve and first start, the crash tests, the property tests and the official SDK's
# instance lifecycle stay in CI.
SLOW_SUITES = (
    "tests/cli/test_identity_commands.py",
    "tests/cli/test_config.py",
    "tests/cli/test_instances_stop.py",
    "tests/acceptance/test_instance_lifecycle.py",
)


def pytest_configure(config: pytest.Config) -> None:
    moved = [suite for suite in SLOW_SUITES if not (config.rootpath / suite).is_file()]
    if moved:
        raise pytest.UsageError(f"tests/conftest.py SLOW_SUITES names files that are not there: {moved}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::", 1)[0] in SLOW_SUITES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = asyncio.run(create_pg_database())
    yield url
    asyncio.run(drop_pg_database(url))


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(engine: str, tmp_path: Path) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'taskcenter.db'}"
        return
    url = asyncio.run(create_pg_database())
    yield url
    asyncio.run(drop_pg_database(url))


@pytest.fixture
async def store(engine: str, tmp_path: Path) -> AsyncIterator[Store]:
    if engine == "sqlite":
        opened: Store = await SqliteStore.open(tmp_path / "taskcenter.db")
        yield opened
        await opened.close()
        return
    url = await create_pg_database()
    opened = await PostgresStore.open(url)
    yield opened
    await opened.close()
    await drop_pg_database(url)
