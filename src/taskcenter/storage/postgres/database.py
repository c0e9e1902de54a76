"""The PostgreSQL database: the pool's connections and the migrations."""

from __future__ import annotations

import asyncpg
import orjson
from asyncpg.types import ServerVersion

from taskcenter.storage import sql
from taskcenter.storage.migrations import Schema, check_schema, migrations

SQL = sql.load(__name__)
# What the port modules run on: a pool's connection proxy (both work, the types differ).
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


async def init_connection(conn: asyncpg.Connection) -> None:
    """JSON in and out as Python values. A json column keeps the text it is given: orjson's,
    compact, an object's keys in their order."""
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog"
        )


async def create_pool(url: str, *, min_size: int, max_size: int) -> asyncpg.Pool:
    """The pool, after migrating the database."""
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=init_connection)


class _Discard(Exception):
    """Rolls back the fresh migration."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema


async def migrate(conn: asyncpg.Connection) -> None:
    """Apply the migrations the database lacks, then refuse it unless its schema is theirs."""
    async with conn.transaction():
        await conn.execute(SQL["migration_lock"])
        await conn.execute(SQL["migrations_table"])
        applied = {r[0] for r in await conn.fetch(SQL["migrations_applied"])}
        for migration in migrations("postgres"):
            if migration.version in applied:
                continue
            await conn.execute(migration.sql)
            await conn.execute(SQL["migration_record"], migration.version, migration.name)
            applied.add(migration.version)
        check_schema("postgres", await schema_of(conn), await expected_schema(conn), sorted(applied))


# By server version: the migrations are the same all along, and making it takes half a second.
_expected: dict[ServerVersion, Schema] = {}


async def expected_schema(conn: asyncpg.Connection) -> Schema:
    """The schema the migrations make, made in a scratch schema that is rolled back (once per
    server version in a process)."""
    version = conn.get_server_version()
    if version not in _expected:
        _expected[version] = await _fresh_schema(conn)
    return _expected[version]


async def _fresh_schema(conn: asyncpg.Connection) -> Schema:
    try:
        async with conn.transaction():
            await conn.execute(SQL["scratch_schema_create"])
            await conn.execute(SQL["scratch_schema_use"])
            await conn.execute(SQL["migrations_table"])
            for migration in migrations("postgres"):
                await conn.execute(migration.sql)
            raise _Discard(await schema_of(conn))
    except _Discard as fresh:
        return fresh.schema


async def schema_of(conn: asyncpg.Connection) -> Schema:
    schema: Schema = {}
    for table, column, kind in await conn.fetch(SQL["schema_columns"]):
        schema.setdefault(table, {})[column] = kind
    return schema
