"""show_job: each store renders GET /v3/{project_id}/jobs?id= itself; job_info is the definition.

Every test runs with each implementation of the poll readers (the C ones skipped only where the
extension is not built), on both stores.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from taskcenter.domain.job import Instance, JobPatch, NewJob
from taskcenter.domain.status import JobStatus
from taskcenter.domain.wire import job_info
from taskcenter.ports import Store
from taskcenter.storage.polls.batcher import PollBatcher
from taskcenter.storage.polls.readers import Readers
from taskcenter.storage.postgres.store import PostgresStore
from taskcenter.storage.sqlite.store import SqliteStore
from tests.storage import poll_implementations
from tests.storage.contract import LONG_AGO, T0


@pytest.fixture(autouse=True, params=poll_implementations.NAMES)
def readers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Readers:
    """The stores opened in each test use these readers."""
    return poll_implementations.use(request.param, monkeypatch)


ENTITIES: list[dict[str, Any]] = [
    {},
    {"instance": {"endpoint": "127.0.0.1:3306", "type": "Cluster"}, "resource_ids": ["x", "y"]},
    {"note": 'quotes " and \\ backslash, a tab\t, a newline\n, 数据库, emoji 🐘', "n": -1.5, "ok": True},
    {"nested": {"deep": [1, [2, [3, {"none": None}]]]}, "big": 2**53},
]
INSTANCES = [None, Instance("a48e43ff268f4c0e879652d65e63d0fbin07", "db-1"), Instance("in2", ""),
             Instance("in3", "名字 \"quoted\"")]  # fmt: skip


async def _jobs_of_every_shape(store: Store) -> list[str]:
    """A job for every status, instance and entities shape, with times off whole seconds."""
    ids = []
    for n, (instance, entities) in enumerate(
        (instance, entities) for instance in INSTANCES for entities in ENTITIES
    ):
        created = T0 + timedelta(days=n, microseconds=999_999 * (n % 2))
        end = n % 5
        status = JobStatus.RUNNING if n % 2 or end == 2 else JobStatus.PENDING
        job, _ = await store.create_job(
            NewJob("p1", f"Job{n}", status=status, instance=instance, entities=entities), created
        )
        ids.append(job.id)
        later = created + timedelta(hours=1, microseconds=500_001)
        if end == 1 and status is JobStatus.RUNNING:
            await store.update_job(job.id, JobPatch(progress=n % 101), later)
        elif end == 2:
            await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), later)
        elif end == 3:
            reason = f'Server did not start: 错误 "{n}"\nline 2'
            await store.update_job(job.id, JobPatch(status=JobStatus.FAILED, fail_reason=reason), later)
        elif end == 4:
            await store.update_job(job.id, JobPatch(status=JobStatus.CANCELED), later)
    return ids


async def test_rendering_equals_job_info_for_every_shape(store: Store) -> None:
    ids = await _jobs_of_every_shape(store)
    seen = set()
    for job_id in ids:
        job = await store.get_job("p1", job_id, LONG_AGO)
        assert job is not None
        seen.add((job.status, job.instance is None, job.progress > 0))
        body = await store.show_job("p1", job_id, LONG_AGO)
        assert body is not None
        assert orjson.loads(body) == {"job": job_info(job)}, job
    assert {status for status, _, _ in seen} == set(JobStatus)
    assert (JobStatus.RUNNING, False, True) in seen  # a progress shown as "NN%"


async def test_unknown_foreign_and_expired_jobs_are_not_shown(store: Store) -> None:
    job, _ = await store.create_job(NewJob("p1", "Job"), T0)
    await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), T0)
    assert await store.show_job("p1", job.id, T0) is not None
    assert await store.show_job("p2", job.id, LONG_AGO) is None
    assert await store.show_job("p1", "00000000-0000-4000-8000-000000000000", LONG_AGO) is None
    assert await store.show_job("p1", job.id, T0 + timedelta(microseconds=1)) is None


async def test_concurrent_polls_each_get_their_own_job(store: Store) -> None:
    """More lookups at once than the reader is handed, mixed with ones that find nothing."""
    jobs = [(await store.create_job(NewJob(f"p{n % 3}", f"Job{n}"), T0))[0] for n in range(40)]
    handed_over = PollBatcher.BATCH_SIZE * PollBatcher.IN_FLIGHT
    asks = [(jobs[n % 40], n % 7 == 0) for n in range(2 * handed_over + 10)]
    bodies = await asyncio.gather(
        *(store.show_job("other" if foreign else job.project_id, job.id, LONG_AGO) for job, foreign in asks)
    )
    for (job, foreign), body in zip(asks, bodies, strict=True):
        if foreign:
            assert body is None
        else:
            assert body is not None and orjson.loads(body)["job"]["name"] == job.name


async def test_a_poll_whose_caller_went_away_does_not_disturb_the_others(store: Store) -> None:
    job, _ = await store.create_job(NewJob("p1", "Job"), T0)
    gone = asyncio.ensure_future(store.show_job("p1", job.id, LONG_AGO))
    kept = asyncio.ensure_future(store.show_job("p1", job.id, LONG_AGO))
    await asyncio.sleep(0)
    gone.cancel()
    assert orjson.loads(await kept)["job"]["id"] == job.id  # type: ignore[arg-type]
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await store.show_job("p1", job.id, LONG_AGO) is not None


async def test_a_failed_batch_fails_its_polls_and_the_next_batch_works(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    try:
        job, _ = await store.create_job(NewJob("p1", "Job"), T0)
        raw = sqlite3.connect(tmp_path / "taskcenter.db", isolation_level=None)
        raw.execute("ALTER TABLE jobs RENAME TO jobs_away")
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await store.show_job("p1", job.id, LONG_AGO)
        raw.execute("ALTER TABLE jobs_away RENAME TO jobs")
        raw.close()
        assert await store.show_job("p1", job.id, LONG_AGO) is not None
    finally:
        await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.show_job("p1", job.id, LONG_AGO)


async def test_the_answer_is_compact_json_byte_for_byte(store: Store) -> None:
    """As the cloud writes it, with no spaces: a client comparing bytes sees the same on both stores."""
    instance = Instance("in1", 'db "one"\n数据库')
    # Control characters too, which JSON escapes (\u0001), and DEL, which it does not.
    job, _ = await store.create_job(NewJob("p1", 'Job "x"\t名\x01\x1f\x7f/', instance=instance), T0)
    await store.update_job(job.id, JobPatch(status=JobStatus.FAILED, fail_reason="disk\\full\n"), T0)
    failed = await store.get_job("p1", job.id, LONG_AGO)
    assert failed is not None
    assert await store.show_job("p1", job.id, LONG_AGO) == orjson.dumps({"job": job_info(failed)})


async def test_server_settings_in_the_url_reach_the_poll_connections(pg_url: str) -> None:
    # The poll lookups connect with libpq, the rest of the store with asyncpg: a setting in the
    # URL's options parameter holds for both, so polls read the schema the other queries use.
    # The store's tables are only in a schema the options name: polls without the options would
    # find no jobs table in public.
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("CREATE SCHEMA elsewhere")
        store = await PostgresStore.open(f"{pg_url}?options=-c%20search_path%3Delsewhere")
        try:
            assert await conn.fetchval("SELECT to_regclass('public.jobs')") is None
            assert await conn.fetchval("SELECT to_regclass('elsewhere.jobs')::text") == "elsewhere.jobs"
            job, _ = await store.create_job(NewJob("p1", "Job"), T0)
            body = await store.show_job("p1", job.id, LONG_AGO)
            assert body is not None and orjson.loads(body)["job"]["id"] == job.id
        finally:
            await store.close()
    finally:
        await conn.close()


async def test_a_url_the_poll_connections_refuse_stops_the_store_from_opening(pg_url: str) -> None:
    # asyncpg would take search_path as a server setting; libpq refuses the parameter. Refused at
    # open, the start fails with the reason, instead of every poll failing with a 500 later.
    with pytest.raises(RuntimeError, match=r"search_path.*options=-c name=value"):
        await PostgresStore.open(f"{pg_url}?search_path=public")
