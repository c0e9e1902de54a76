"""The authenticator's memory of signers: only what was verified, and never longer than the key.

Every test runs on both implementations of the signature check (the C and its Python twin)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from taskcenter.domain.clock import system_clock
from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.domain.principals import Principal
from taskcenter.identity import authenticator as authenticator_module
from taskcenter.identity.accounts import Credentials, create_project
from taskcenter.identity.aksk import SignatureRefused
from taskcenter.identity.authenticator import Authenticator
from taskcenter.storage.sqlite.store import SqliteStore
from tests.identity.sdk_hmac_implementations import sdk_hmac_check
from tests.support import sign

pytestmark = pytest.mark.usefixtures(sdk_hmac_check.__name__)


@dataclass
class Client:
    """A project's credentials and an authenticator on a real store, polling one job."""

    store: SqliteStore
    creds: Credentials
    auth: Authenticator

    @property
    def url(self) -> str:
        return (
            f"http://127.0.0.1:8080/v3/{self.creds.project_id}/jobs?id=a9767ede-fe0f-4888-9003-e843a4c90514"
        )

    async def poll(self, secret: str, extra: dict[str, str] | None = None) -> Principal:
        headers = sign(self.creds.access_key, secret, "GET", self.url, headers=extra)
        raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
        path, _, query = self.url.removeprefix("http://127.0.0.1:8080").partition("?")
        return await self.auth.authenticate("GET", path.encode(), query.encode(), raw, b"")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    try:
        yield Client(store, await create_project(store, "acme"), Authenticator(store, system_clock))
    finally:
        await store.close()


async def test_forged_requests_leave_nothing_behind(client: Client) -> None:
    """An access key is not a secret: requests under a real one with a wrong signature, each
    signing its own made-up headers, are refused and not remembered."""
    for n in range(50):
        with pytest.raises(AuthenticationFailed, match="signature"):
            await client.poll("not-the-secret", {f"X-Junk-{n}": "x" * 100})
    assert len(client.auth._signers._entries) == 0
    principal = await client.poll(client.creds.secret_key)
    assert principal.project_id == client.creds.project_id
    assert len(client.auth._signers._entries) == 1


async def test_a_known_signer_expires_with_its_key(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client's parsed head is kept with the key's own fetch time: once CACHE_SECONDS have passed
    since the key was read from the store, it is read again (so a revoked key stops working)."""
    lookups = 0
    real = client.store.get_access_key

    async def counted(access_key: str):  # type: ignore[no-untyped-def]
        nonlocal lookups
        lookups += 1
        return await real(access_key)

    monkeypatch.setattr(client.store, "get_access_key", counted)
    await client.poll(client.creds.secret_key)
    # A second head of the same key (other signed headers), verified a while later.
    start = time.monotonic()
    monkeypatch.setattr(authenticator_module, "monotonic", lambda: start + 50)
    await client.poll(client.creds.secret_key, {"X-Client": "b"})
    assert lookups == 1  # the key came from the cache
    # 61 s after the key was fetched, both heads need the store again.
    monkeypatch.setattr(authenticator_module, "monotonic", lambda: start + 61)
    await client.poll(client.creds.secret_key, {"X-Client": "b"})
    assert lookups == 2


async def test_an_unknown_key_and_a_wrong_secret_get_one_answer(client: Client) -> None:
    """Whether an access key exists is not for the client to learn; the reason stays on the
    exception for the server's log."""
    with pytest.raises(SignatureRefused) as wrong:
        await client.poll("not-the-secret")
    client.creds = dataclasses.replace(client.creds, access_key="NOSUCHKEY")
    with pytest.raises(SignatureRefused) as unknown:
        await client.poll("not-the-secret")
    assert wrong.value.message() == unknown.value.message()
    assert wrong.value.message("zh-cn") == unknown.value.message("zh-cn")
    assert "unknown" in unknown.value.reason and "unknown" not in wrong.value.reason
