"""The authenticator's memory of signers: only what was verified, and never longer than the key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from taskcenter.domain.clock import system_clock
from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.identity import authenticator as authenticator_module
from taskcenter.identity.accounts import create_project
from taskcenter.identity.authenticator import Authenticator
from taskcenter.storage.sqlite import SqliteStore
from tests.support import sign

URL = "http://127.0.0.1:8080/v3/{project}/jobs?id=a9767ede-fe0f-4888-9003-e843a4c90514"


def _request(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]


async def test_forged_requests_leave_nothing_behind(tmp_path: Path) -> None:
    """An access key is not a secret: requests under a real one with a wrong signature, each
    signing its own made-up headers, are refused and not remembered."""
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    try:
        creds = await create_project(store, "acme")
        auth = Authenticator(store, system_clock)
        url = URL.format(project=creds.project_id)
        path, query = f"/v3/{creds.project_id}/jobs", url.partition("?")[2].encode()
        for n in range(50):
            headers = sign(creds.access_key, "not-the-secret", "GET", url, headers={f"X-Junk-{n}": "x" * 100})
            with pytest.raises(AuthenticationFailed, match="signature"):
                await auth.authenticate("GET", path, query, _request(headers), b"")
        assert len(auth._signers._entries) == 0
        good = sign(creds.access_key, creds.secret_key, "GET", url)
        principal = await auth.authenticate("GET", path, query, _request(good), b"")
        assert principal.project_id == creds.project_id
        assert len(auth._signers._entries) == 1
    finally:
        await store.close()


async def test_a_known_signer_expires_with_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client's parsed head is kept with the key's own fetch time: once CACHE_SECONDS have passed
    since the key was read from the store, it is read again (so a revoked key stops working)."""
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    try:
        creds = await create_project(store, "acme")
        auth = Authenticator(store, system_clock)
        url = URL.format(project=creds.project_id)
        path, query = f"/v3/{creds.project_id}/jobs", url.partition("?")[2].encode()
        lookups = 0
        real = store.get_access_key

        async def counted(access_key: str):  # type: ignore[no-untyped-def]
            nonlocal lookups
            lookups += 1
            return await real(access_key)

        monkeypatch.setattr(store, "get_access_key", counted)
        first = sign(creds.access_key, creds.secret_key, "GET", url)
        await auth.authenticate("GET", path, query, _request(first), b"")
        # A second head of the same key (other signed headers), verified a while later.
        start = time.monotonic()
        monkeypatch.setattr(authenticator_module, "monotonic", lambda: start + 50)
        second = sign(creds.access_key, creds.secret_key, "GET", url, headers={"X-Client": "b"})
        await auth.authenticate("GET", path, query, _request(second), b"")
        assert lookups == 1  # the key came from the cache
        # 61 s after the key was fetched, both heads need the store again.
        monkeypatch.setattr(authenticator_module, "monotonic", lambda: start + 61)
        await auth.authenticate("GET", path, query, _request(second), b"")
        assert lookups == 2
    finally:
        await store.close()
