"""Opening the store a database URL names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from taskcenter.ports import Store

SQLITE_FILE = "taskcenter.db"


def describe(database_url: str | None, data_dir: Path) -> str:
    """Where the store lives, for logs and errors (never with a password), or ValueError."""
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(database_url)
        return f"postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}"
    if database_url:
        if not database_url.startswith("sqlite:///"):
            raise ValueError(
                f"unsupported database URL {database_url!r}: use postgresql://... or sqlite:///PATH"
            )
        return database_url
    return f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


async def open_store(database_url: str | None, data_dir: Path) -> Store:
    """PostgreSQL for postgres:// and postgresql:// URLs; otherwise SQLite.

    ``sqlite:///path`` names the file; with no URL the file lives in ``data_dir``.
    """
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        from taskcenter.storage.postgres.store import PostgresStore

        return await PostgresStore.open(database_url)
    from taskcenter.storage.sqlite.store import SqliteStore

    if database_url:
        describe(database_url, data_dir)  # rejects unknown schemes
        return await SqliteStore.open(Path(database_url.removeprefix("sqlite:///")))
    return await SqliteStore.open(data_dir / SQLITE_FILE)
