"""A database outage is a 500 DBS.108000 with a request id, never a traceback."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import asyncpg

from tests.api.conftest import Api
from tests.support import PG_ADMIN_URL


async def _cut_off(url: str, allow: bool) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await conn.close()


def test_database_down_is_a_server_failure(pg_api: Api) -> None:
    job = pg_api.create_job()
    token = pg_api.token("a")
    asyncio.run(_cut_off(pg_api.database_url, allow=False))
    try:
        response = pg_api.http.get(
            pg_api.job_path(), params={"id": job["id"]}, headers={"X-Auth-Token": token}
        )
        assert response.status_code == 500
        assert response.json() == {"error_code": "DBS.108000", "error_msg": "Server failure."}
        assert response.headers["x-request-id"]
        assert "Traceback" not in response.text
        listing = pg_api.http.get(
            f"/v3/{pg_api.creds['a'].project_id}/immediate-jobs", headers={"X-Auth-Token": token}
        )
        assert listing.status_code == 500
    finally:
        asyncio.run(_cut_off(pg_api.database_url, allow=True))
    # Service resumes by itself once the database is back.
    for _ in range(20):
        again = pg_api.http.get(
            pg_api.job_path(), params={"id": str(uuid.uuid4())}, headers={"X-Auth-Token": token}
        )
        if again.status_code == 400:
            break
    assert again.json()["error_code"] == "DBS.200543"
    shown = pg_api.http.get(pg_api.job_path(), params={"id": job["id"]}, headers={"X-Auth-Token": token})
    assert shown.status_code == 200 and shown.json()["job"]["id"] == job["id"]
