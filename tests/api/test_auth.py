"""Credentials: 401 APIGW.0301 saying why, 403 for the wrong project, tokens via Keystone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.api.conftest import Api
from tests.support import sign


def assert_401(response, why: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error_code"] == "APIGW.0301"
    assert body["error_msg"].startswith("Incorrect IAM authentication information:")
    assert why in body["error_msg"]
    assert response.headers["x-request-id"]


def test_no_credentials(api: Api) -> None:
    assert_401(api.http.get(api.job_path(), params={"id": str(uuid.uuid4())}), "x-auth-token not found")


def test_unknown_token(api: Api) -> None:
    response = api.http.get(api.job_path(), params={"id": "x"}, headers={"X-Auth-Token": "forged"})
    assert_401(response, "not a token this service issued")


def test_expired_token(api: Api) -> None:
    token = api.token("a")
    api.clock.advance(hours=24, seconds=1)
    response = api.http.get(api.job_path(), params={"id": "x"}, headers={"X-Auth-Token": token})
    assert_401(response, "token expires")


def test_bad_signature(api: Api) -> None:
    c = api.creds["a"]
    url = f"{api.url}{api.job_path()}?id={uuid.uuid4()}"
    headers = sign(c.access_key, "wrong-secret", "GET", url)
    assert_401(api.http.get(url, headers=headers), "verify aksk signature fail")


def test_a_known_signer_is_still_checked_on_every_request(api: Api) -> None:
    """The server keeps a client's parsed Authorization head; each request's signature, date and
    signed headers are still checked."""
    c = api.creds["a"]
    url = f"{api.url}{api.job_path()}?id={uuid.uuid4()}"
    headers = sign(c.access_key, c.secret_key, "GET", url)
    answer = api.http.get(url, headers=headers)
    assert answer.json()["error_code"] == "DBS.200543"  # verified: the job is unknown
    head, _, signature = headers["Authorization"].rpartition("Signature=")
    for bad in ("zz" * 32, signature[:-1], signature[:-1] + ("0" if signature[-1] != "0" else "1")):
        response = api.http.get(url, headers={**headers, "Authorization": head + "Signature=" + bad})
        assert_401(response, "Authorization header" if "z" in bad or len(bad) != 64 else "signature fail")
    assert_401(api.http.get(url, headers={**headers, "Content-Type": "text/plain"}), "signature fail")
    stale = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y%m%dT%H%M%SZ")
    assert_401(api.http.get(url, headers={**headers, "X-Sdk-Date": stale}), "15 minutes")


def test_unknown_access_key(api: Api) -> None:
    url = f"{api.url}{api.job_path()}?id={uuid.uuid4()}"
    assert_401(api.http.get(url, headers=sign("NOSUCHKEY", "s", "GET", url)), "access key")


@pytest.mark.parametrize("minutes", [16, -16])
def test_sdk_date_too_far_off(api: Api, minutes: int) -> None:
    c = api.creds["a"]
    url = f"{api.url}{api.job_path()}?id={uuid.uuid4()}"
    date = (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y%m%dT%H%M%SZ")
    headers = sign(c.access_key, c.secret_key, "GET", url, headers={"X-Sdk-Date": date})
    assert_401(api.http.get(url, headers=headers), "15 minutes")


def test_credential_of_another_project_is_forbidden(api: Api) -> None:
    response = api.get(api.job_path("b"), who="a", params={"id": str(uuid.uuid4())})
    assert response.status_code == 403
    assert response.json()["error_code"] == "DBS.200010"
    listing = api.get(f"/v3/{api.creds['b'].project_id}/immediate-jobs", who="a")
    assert listing.status_code == 403


def test_admin_token_cannot_read_tenant_paths_either(api: Api) -> None:
    assert api.get(api.job_path("a"), who="admin", params={"id": str(uuid.uuid4())}).status_code == 403


def test_wrong_password_gets_no_token(api: Api) -> None:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "tenant-a", "password": "wrong"}},
            }
        }
    }
    response = api.http.post("/v3/auth/tokens", json=body)
    assert response.status_code == 401 and "X-Subject-Token" not in response.headers
    assert set(response.json()) == {"error_code", "error_msg"}


def test_token_scoped_to_a_foreign_project_is_refused(api: Api) -> None:
    c = api.creds["a"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": c.user, "password": c.password}},
            },
            "scope": {"project": {"id": api.creds["b"].project_id}},
        }
    }
    assert api.http.post("/v3/auth/tokens", json=body).status_code == 401


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"auth": {}}'])
def test_malformed_token_requests_are_400(api: Api, body: bytes) -> None:
    response = api.http.post("/v3/auth/tokens", content=body)
    assert response.status_code == 400 and response.json()["error_code"] == "DBS.200001"


def test_keystoneauth_password_plugin_obtains_a_working_token(api: Api) -> None:
    c = api.creds["a"]
    auth = v3.Password(
        auth_url=f"{api.url}/v3",
        username=c.user,
        password=c.password,
        project_id=c.project_id,
        user_domain_name="Default",
    )
    sess = ks_session.Session(auth=auth)
    token = sess.get_token()
    assert token
    assert sess.get_project_id() == c.project_id
    job = api.create_job()
    response = api.http.get(api.job_path(), params={"id": job["id"]}, headers={"X-Auth-Token": token})
    assert response.status_code == 200


def test_passwords_and_tokens_are_not_stored_in_the_clear(api: Api) -> None:
    token = api.token("a")
    if api.database_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(api.database_url.removeprefix("sqlite:///"))
        dump = "\n".join(conn.iterdump())
        conn.close()
    else:
        import asyncio

        import asyncpg

        async def pg_dump() -> str:
            conn = await asyncpg.connect(api.database_url)
            try:
                rows = [*await conn.fetch("SELECT * FROM users"), *await conn.fetch("SELECT * FROM tokens")]
            finally:
                await conn.close()
            return "\n".join(str(tuple(r)) for r in rows)

        dump = asyncio.run(pg_dump())
    assert token not in dump
    assert api.creds["a"].password not in dump
    assert "$argon2id$" in dump
