from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from taskcenter.ports import Store
from taskcenter.storage.postgres.store import PostgresStore
from taskcenter.storage.sqlite.store import SqliteStore
from tests.support import create_pg_database, drop_pg_database


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
