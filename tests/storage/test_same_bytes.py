"""Both stores answer a job with the bytes its producer sent: entities and params kept as the text
they were written as (key order, no added spaces), through show_job (the poll's body, rendered by
each poll reader) and get_job, and the same bytes from SQLite and PostgreSQL.

PostgreSQL kept them as jsonb until migration 0004, which reordered an object's keys and added
spaces; the contract test that claimed byte-equality then used empty entities.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest

from taskcenter.domain.job import JobPatch, NewJob
from taskcenter.domain.runs import Claim, Ending, Outcome
from taskcenter.domain.status import JobStatus
from taskcenter.domain.wire import job_info
from taskcenter.ports import Store
from taskcenter.storage.polls.readers import Readers
from taskcenter.storage.postgres.store import PostgresStore
from taskcenter.storage.sqlite.store import SqliteStore
from tests.storage import poll_implementations
from tests.storage.contract import LONG_AGO, T0


@pytest.fixture(autouse=True, params=poll_implementations.NAMES)
def readers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Readers:
    """The stores opened in each test use these readers."""
    return poll_implementations.use(request.param, monkeypatch)


@pytest.fixture
async def stores(tmp_path: Path, pg_url: str) -> AsyncIterator[list[Store]]:
    sqlite: Store = await SqliteStore.open(tmp_path / "taskcenter.db")
    postgres: Store = await PostgresStore.open(pg_url)
    yield [sqlite, postgres]
    await sqlite.close()
    await postgres.close()


# As a producer writes them: compact, keys in no sorted order (jsonb sorted by length, then bytes).
NESTED = (
    b'{"zone":{"b":[1,{"zz":null,"a":true}],"a":-1.5e-7},"id":"x","list":[[[]],{}],'
    b'"n":9007199254740993,"empty":""}'
)
UNICODE = (
    '{"名前":"数据库 \\"quoted\\" back\\\\slash\\n\\ttab","emoji":"🐘🎉 𝄞 𠀀",'
    '"é":{"ж":"\\u0001\\u001f","z":"\u2028\u2029"},"a":"plain"}'
).encode()
# Over 100 KB, with the keys out of order in every row.
LARGE = orjson.dumps(
    {
        "rows": [{"z": n, "数据": "行" * 40, "a": [n, {"y": "🐘", "b": None}]} for n in range(1_200)],
        "count": 1_200,
    }
)
SENT = {"nested": NESTED, "unicode": UNICODE, "large": LARGE}


def test_the_large_document_is_large() -> None:
    assert len(LARGE) >= 100_000
    for sent in SENT.values():
        assert orjson.dumps(orjson.loads(sent)) == sent  # what a producer's body reads back as


@pytest.mark.parametrize("name", list(SENT))
async def test_entities_and_params_come_back_as_the_producer_sent_them(
    stores: list[Store], name: str
) -> None:
    sent = SENT[name]
    bodies = []
    for store in stores:
        value = orjson.loads(sent)
        job, _ = await store.create_job(NewJob("p1", "Job", entities=value, params=value), T0)
        body = await store.show_job("p1", job.id, LONG_AGO)
        assert body is not None
        assert b'"entities":' + sent + b',"fail_reason":' in body, store.dialect
        read = await store.get_job("p1", job.id, LONG_AGO)
        assert read is not None
        assert orjson.dumps(read.entities) == sent and orjson.dumps(read.params) == sent, store.dialect
        assert body == orjson.dumps({"job": job_info(read)})
        bodies.append(body.replace(job.id.encode(), b"JOB"))
    assert bodies[0] == bodies[1]


@pytest.mark.parametrize("name", list(SENT))
async def test_entities_a_producer_patches_in_come_back_as_sent(stores: list[Store], name: str) -> None:
    sent = SENT[name]
    bodies = []
    for store in stores:
        job, _ = await store.create_job(NewJob("p1", "Job"), T0)
        await store.update_job(job.id, JobPatch(entities=orjson.loads(sent)), T0 + timedelta(seconds=1))
        body = await store.show_job("p1", job.id, LONG_AGO)
        assert body is not None and b'"entities":' + sent + b"," in body, store.dialect
        read = await store.get_job("p1", job.id, LONG_AGO)
        assert read is not None and orjson.dumps(read.entities) == sent
        bodies.append(body.replace(job.id.encode(), b"JOB"))
    assert bodies[0] == bodies[1]


async def test_the_stores_keep_the_text_itself(stores: list[Store], pg_url: str, tmp_path: Path) -> None:
    """Not only the same value read back: the column holds the producer's bytes."""
    ids = []
    for store in stores:
        job, _ = await store.create_job(NewJob("p1", "Job", entities=orjson.loads(UNICODE)), T0)
        ids.append(job.id)
    conn = sqlite3.connect(tmp_path / "taskcenter.db")
    try:
        (kept,) = conn.execute("SELECT entities FROM jobs WHERE id = ?", (ids[0],)).fetchone()
    finally:
        conn.close()
    assert kept.encode() == UNICODE
    pg = await asyncpg.connect(pg_url)
    try:
        kept = await pg.fetchval("SELECT entities::text FROM jobs WHERE id = $1", ids[1])
        assert kept.encode() == UNICODE
    finally:
        await pg.close()


async def test_params_lose_their_secrets_at_the_end_and_keep_the_rest_as_sent(stores: list[Store]) -> None:
    params = orjson.loads('{"z":1,"secrets":{"password":"p"},"名":"值 🐘","a":{"y":[2,1],"b":"\\u0001"}}')
    kept = '{"z":1,"名":"值 🐘","a":{"y":[2,1],"b":"\\u0001"}}'.encode()
    for store in stores:
        job, _ = await store.create_job(
            NewJob("p1", "Job", status=JobStatus.PENDING, run_by_worker=True, params=params), T0
        )
        [claimed] = await store.claim_jobs("w1", 1, T0, timedelta(seconds=30))
        assert orjson.dumps(claimed.params) == orjson.dumps(params)
        [ended] = await store.finish_many([Outcome(Claim(job.id, "w1", 1), Ending.RETURNED)], T0)
        assert ended is not None and orjson.dumps(ended.params) == kept, store.dialect
        found = await store.find_job(job.id)
        assert found is not None and orjson.dumps(found.params) == kept, store.dialect
