"""Credentials: 401 APIGW.0301 saying why, 403 for the wrong project, tokens via Keystone."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec

import httpx
import orjson
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkgaussdb.v3 import GaussDBClient, ShowGaussMySqlInstanceInfoRequest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.api.conftest import Api
from tests.identity.sdk_hmac_implementations import sdk_hmac_check
from tests.support import sign

P = ParamSpec("P")


def on_both_checks(test: Callable[P, None]) -> Callable[P, None]:
    """The signed-request tests run the C check on both stores, and its Python twin on SQLite (the
    check does not touch the store; the server runs in the test's process, so the fixture swaps it)."""
    name = sdk_hmac_check.__name__
    both = pytest.mark.parametrize(
        ("engine", name), [("sqlite", "c"), ("postgres", "c"), ("sqlite", "python")], indirect=[name]
    )
    return pytest.mark.usefixtures(name)(both(test))


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


@on_both_checks
def test_bad_signature(api: Api) -> None:
    c = api.creds["a"]
    url = f"{api.url}{api.job_path()}?id={uuid.uuid4()}"
    headers = sign(c.access_key, "wrong-secret", "GET", url)
    assert_401(api.http.get(url, headers=headers), "verify aksk signature fail")


@on_both_checks
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


@on_both_checks
def test_unknown_access_key(api: Api) -> None:
    url = f"{api.url}{api.job_path()}?id={uuid.uuid4()}"
    assert_401(api.http.get(url, headers=sign("NOSUCHKEY", "s", "GET", url)), "access key")


@on_both_checks
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


# --- A body changed after signing (issue 18) -------------------------------------------------


def _job_body(api: Api, name: str) -> bytes:
    return orjson.dumps({"project_id": api.creds["a"].project_id, "name": name})


@on_both_checks
@pytest.mark.parametrize("declare_hash", [True, False])
def test_a_body_changed_after_signing_is_refused(api: Api, declare_hash: bool) -> None:
    """The signature covers the body: its hash is the body's own, whether or not the client
    declared it in X-Sdk-Content-Sha256 (a declared one was trusted, and any body went through)."""
    c = api.creds["admin"]
    url = f"{api.url}/internal/v1/jobs"
    signed = _job_body(api, "CreateGaussDBforMySQLInstance")
    declared = {"X-Sdk-Content-Sha256": hashlib.sha256(signed).hexdigest()} if declare_hash else {}
    headers = sign(c.access_key, c.secret_key, "POST", url, signed, declared)
    assert ("X-Sdk-Content-Sha256" in headers) is declare_hash
    changed = _job_body(api, "DeleteGaussDBforMySQLInstance")
    response = httpx.post(url, content=changed, headers=headers)
    assert_401(response, "X-Sdk-Content-Sha256" if declare_hash else "signature fail")
    listing = api.get(f"/v3/{api.creds['a'].project_id}/immediate-jobs")
    assert listing.json()["total_count"] == 0
    # The request as signed still goes through, the declared hash included.
    assert httpx.post(url, content=signed, headers=headers).status_code == 201


@on_both_checks
def test_a_declared_body_hash_must_be_the_bodys(api: Api) -> None:
    """A declared hash that is not the body's SHA-256 in lower-case hex is refused even when it
    is what was signed: the SDK's UNSIGNED-PAYLOAD (sent for content types other than JSON)
    would leave the body unsigned."""
    c = api.creds["admin"]
    url = f"{api.url}/internal/v1/jobs"
    body = _job_body(api, "CreateGaussDBforMySQLInstance")
    real = hashlib.sha256(body).hexdigest()
    for declared in ("UNSIGNED-PAYLOAD", real.upper(), real[:-1], "0" * 64):
        headers = sign(c.access_key, c.secret_key, "POST", url, body, {"X-Sdk-Content-Sha256": declared})
        assert_401(httpx.post(url, content=body, headers=headers), "X-Sdk-Content-Sha256")
    # Without a body the declared value does not matter: the SDK signs an empty payload's hash.
    headers = sign(
        c.access_key, c.secret_key, "GET", url + "/x", b"", {"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}
    )
    assert httpx.get(url + "/x", headers=headers).status_code == 400  # signed; "x" is no job id


# --- Paths as the client sent them (issue 18) ------------------------------------------------

ODD_IDS = ["a%41b", "a%2Fb", "100%", "a b", "a+b", "任务-1", "x~y.z_1-2"]


@on_both_checks
@pytest.mark.parametrize("instance_id", ODD_IDS)
def test_the_official_sdk_is_verified_for_any_id_in_the_path(api: Api, instance_id: str) -> None:
    """The SDK signs the path it sends, percent-encoded once; the server hands the application
    that path decoded once, and verifying that decoded path refused the SDK's valid signature
    for an id holding "%41". The answer is the route's own, not 401: no such instance, or, for
    an id that cannot be an instance's, the parameter error naming it."""
    c = api.creds["a"]
    client = (
        GaussDBClient.new_builder()
        .with_credentials(BasicCredentials(c.access_key, c.secret_key, c.project_id))
        .with_endpoints([api.url])
        .build()
    )
    with pytest.raises(ClientRequestException) as refused:
        client.show_gauss_my_sql_instance_info(ShowGaussMySqlInstanceInfoRequest(instance_id=instance_id))
    answer = (refused.value.status_code, refused.value.error_code)
    if re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", instance_id):
        assert answer == (404, "DBS.200045"), refused.value
    else:
        assert answer == (400, "DBS.200001") and "instance_id" in refused.value.error_msg, refused.value


# --- One answer for an unknown key and a wrong signature (issue 18) --------------------------


@on_both_checks
def test_an_unknown_access_key_is_answered_as_a_wrong_signature(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """Whether an access key exists is not told to the client, in English or Chinese; the
    server's log says which it was."""
    c = api.creds["a"]
    url = f"{api.url}{api.job_path()}?id={uuid.uuid4()}"
    answers = []
    with caplog.at_level(logging.INFO, logger="taskcenter.api"):
        for language in ("en-us", "zh-cn"):
            extra = {"X-Language": language}
            unknown = api.http.get(url, headers=sign("NOSUCHKEY", "s", "GET", url, headers=extra))
            wrong = api.http.get(url, headers=sign(c.access_key, "wrong-secret", "GET", url, headers=extra))
            assert unknown.status_code == wrong.status_code == 401
            assert unknown.json() == wrong.json()
            answers.append(unknown.json()["error_msg"])
    assert "signature" in answers[0] and "access key" in answers[0]
    assert answers[1].startswith("IAM认证信息错误") and "签名" in answers[1]
    logged = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    assert any("access key (AK) is unknown" in line for line in logged), logged
    assert any("does not match" in line and "unknown" not in line for line in logged), logged


# --- Repeated wrong passwords lock the name (issue 18) ----------------------------------------


def _password_body(name: str, password: str) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": name, "password": password}}}
        }
    }


def test_repeated_wrong_passwords_lock_the_user_name(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """Five wrong passwords lock a name for a minute, the right password included, as IAM locks
    a user; an unknown name is locked alike, so the lock tells nothing of which names exist."""
    c = api.creds["a"]
    with caplog.at_level(logging.INFO, logger="taskcenter.identity"):
        answers = {}
        for name in (c.user, "no-such-user"):
            statuses = [
                api.http.post("/v3/auth/tokens", json=_password_body(name, "wrong")).status_code
                for _ in range(50)
            ]
            assert statuses == [401] * 5 + [429] * 45  # 50 wrong passwords in a row were all answered
            locked = api.http.post("/v3/auth/tokens", json=_password_body(name, c.password))
            assert locked.status_code == 429 and "X-Subject-Token" not in locked.headers
            zh = api.http.post(
                "/v3/auth/tokens", json=_password_body(name, c.password), headers={"X-Language": "zh-cn"}
            )
            answers[name] = (locked.json(), zh.json())
    real, unknown = answers[c.user], answers["no-such-user"]
    assert real == unknown
    assert real[0]["error_code"] == "APIGW.0308"
    assert "Too many failed logins" in real[0]["error_msg"] and "60 seconds" in real[0]["error_msg"]
    assert real[1]["error_msg"].startswith("登录失败次数过多") and "60 秒" in real[1]["error_msg"]
    logged = [r.getMessage() for r in caplog.records if "locked" in r.getMessage()]
    assert any("'tenant-a'" in line for line in logged), logged
    # Another name from the same address is not locked, and the lock ends.
    assert (
        api.http.post("/v3/auth/tokens", json=_password_body("tenant-b", api.creds["b"].password)).status_code
        == 201
    )
    api.clock.advance(seconds=61)
    assert api.http.post("/v3/auth/tokens", json=_password_body(c.user, c.password)).status_code == 201
