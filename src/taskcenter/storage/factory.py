"""Opening the store a database URL names."""

from __future__ import annotations

from pathlib import Path

from taskcenter.storage.base import Store

SQLITE_FILE = "taskcenter.db"


async def open_store(database_url: str | None, data_dir: Path) -> Store:
    """PostgreSQL for postgres:// and postgresql:// URLs; otherwise SQLite.

    ``sqlite:///path`` names the file; with no URL the file lives in ``data_dir``.
    """
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        from taskcenter.storage.postgres import PostgresStore

        return await PostgresStore.open(database_url)
    from taskcenter.storage.sqlite import SqliteStore

    if database_url:
        if not database_url.startswith("sqlite:///"):
            raise ValueError(
                f"unsupported database URL {database_url!r}: use postgresql://... or sqlite:///PATH"
            )
        return await SqliteStore.open(Path(database_url.removeprefix("sqlite:///")))
    return await SqliteStore.open(data_dir / SQLITE_FILE)
