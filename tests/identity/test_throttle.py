"""Failed logins lock a user name or a client address for a while, growing, in bounded memory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from taskcenter.domain.clock import system_clock
from taskcenter.domain.errors import KeystoneUnauthorized, LoginThrottled
from taskcenter.identity.accounts import Credentials, create_project
from taskcenter.identity.keystone import issue_token
from taskcenter.identity.throttle import LoginThrottle
from taskcenter.storage.sqlite.store import SqliteStore

T0 = 1_800_000_000.0


def fail(throttle: LoginThrottle, name: str, address: str | None, times: int, now: float = T0) -> None:
    for _ in range(times):
        throttle.check(name, address, now)
        throttle.failed(name, address, now)


def wait_of(throttle: LoginThrottle, name: str, address: str | None, now: float) -> str:
    with pytest.raises(LoginThrottled) as locked:
        throttle.check(name, address, now)
    return locked.value.detail


def test_five_failures_lock_the_name_for_a_minute_then_twice_as_long_each_time() -> None:
    throttle = LoginThrottle()
    now = T0
    for seconds in (60, 120, 240, 480, 900, 900):
        fail(throttle, "alice", "192.0.2.1", 4, now)
        throttle.check("alice", "192.0.2.1", now)  # four are allowed
        fail(throttle, "alice", "192.0.2.1", 1, now)
        assert f"try again in {seconds} seconds" in wait_of(throttle, "alice", "192.0.2.1", now)
        assert "in 1 seconds" in wait_of(throttle, "alice", "192.0.2.1", now + seconds - 0.5)
        now += seconds
        throttle.check("alice", "192.0.2.2", now)
        throttle.check("alice", "192.0.2.1", now)  # ended, not yet forgotten: the next one is longer


def test_failures_count_within_fifteen_minutes_and_a_quiet_name_starts_over() -> None:
    throttle = LoginThrottle()
    fail(throttle, "alice", None, 4)
    fail(throttle, "alice", None, 4, T0 + 15 * 60 + 1)  # a new window
    throttle.check("alice", None, T0 + 15 * 60 + 1)
    fail(throttle, "alice", None, 1, T0 + 15 * 60 + 2)
    assert "60 seconds" in wait_of(throttle, "alice", None, T0 + 15 * 60 + 2)
    # Fifteen quiet minutes after a lock, the next lock is the first again.
    later = T0 + 15 * 60 + 2 + 60 + 15 * 60
    fail(throttle, "alice", None, 5, later)
    assert "60 seconds" in wait_of(throttle, "alice", None, later)


def test_the_right_password_forgets_the_names_failures_not_the_addresss() -> None:
    throttle = LoginThrottle()
    for n in range(4):
        fail(throttle, "alice", "192.0.2.1", 4)
        throttle.succeeded("alice")
        fail(throttle, f"other-{n}", "192.0.2.1", 1)
    throttle.check("alice", "192.0.2.9", T0)  # the name was never locked
    with pytest.raises(LoginThrottled, match="client address"):
        throttle.check("alice", "192.0.2.1", T0)  # 16 + 4 failures from one address


def test_twenty_failures_from_one_address_lock_it_whatever_the_names() -> None:
    throttle = LoginThrottle()
    for n in range(19):
        fail(throttle, f"name-{n}", "192.0.2.1", 1)
    throttle.check("fresh", "192.0.2.1", T0)
    fail(throttle, "name-19", "192.0.2.1", 1)
    detail = wait_of(throttle, "fresh", "192.0.2.1", T0)
    assert "client address" in detail and "60 seconds" in detail
    throttle.check("fresh", "192.0.2.2", T0)
    throttle.check("fresh", "192.0.2.1", T0 + 60)


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one /64: one host
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:192.0.2.1", "192.0.2.1", True),
        ("192.0.2.1", "192.0.2.2", False),
    ],
)
def test_an_ipv6_address_counts_by_its_64(first: str, second: str, shared: bool) -> None:
    throttle = LoginThrottle()
    for n in range(20):
        fail(throttle, f"name-{n}", first, 1)
    if shared:
        with pytest.raises(LoginThrottled, match="client address"):
            throttle.check("fresh", second, T0)
    else:
        throttle.check("fresh", second, T0)


def test_memory_is_bounded_whatever_the_names_and_addresses() -> None:
    """A guesser cycling names and addresses cannot grow the tables without end; a name is
    kept as a digest however long it is."""
    throttle = LoginThrottle(max_entries=100)
    fail(throttle, "target", "198.51.100.1", 5)
    for n in range(1000):
        fail(throttle, f"name-{n}-" + "x" * 10_000, f"10.0.{n // 256}.{n % 256}", 1)
    assert len(throttle._names) == len(throttle._addresses) == 100
    assert all(len(key) == 16 for key in throttle._names._records)  # type: ignore[arg-type]
    # The oldest went first: the target's lock was pushed out only by 100 fresher failures.
    throttle.check("target", "198.51.100.1", T0)


def test_a_lock_is_logged_naming_the_user_escaped(caplog: pytest.LogCaptureFixture) -> None:
    throttle = LoginThrottle()
    name = "evil\x1b[2J\nroot login ok\u202e"
    with caplog.at_level(logging.INFO, logger="taskcenter.identity"):
        fail(throttle, name, "192.0.2.1", 5)
    (line,) = [r.getMessage() for r in caplog.records if "login locked" in r.getMessage()]
    assert "user name 'evil\\x1b[2J\\nroot login ok\\u202e'" in line and "192.0.2.1" in line
    assert "\x1b" not in line and "\n" not in line and "\u202e" not in line


@pytest.fixture
async def project(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, Credentials]]:
    store = await SqliteStore.open(tmp_path / "taskcenter.db")
    try:
        yield store, await create_project(store, "acme")
    finally:
        await store.close()


def _login(name: str, password: str) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": name, "password": password}}}
        }
    }


class _PausingStore:
    """A real store that says when a login has looked its user up: the attempt has passed the
    throttle's first check and goes on to verify the password."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.looked_up = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get_user_by_name(self, name: str) -> Any:
        self.looked_up.set()
        return await self._store.get_user_by_name(name)


async def test_an_attempt_that_ends_after_a_lock_began_is_refused_even_when_right(
    project: tuple[SqliteStore, Credentials],
) -> None:
    """Guesses sent all at once pass the first check together: each is checked again once its
    password is verified, so no more outcomes than the limit reach a guesser."""
    store, creds = project
    throttle = LoginThrottle()
    pausing = _PausingStore(store)
    now = system_clock().timestamp()
    attempt = asyncio.create_task(
        issue_token(
            pausing, system_clock, throttle, _login(creds.user, creds.password), "http://x", "192.0.2.1"
        )
    )
    await asyncio.wait_for(pausing.looked_up.wait(), 10)
    for _ in range(5):
        throttle.failed(creds.user, "192.0.2.7", now)  # five wrong ones, from elsewhere, meanwhile
    with pytest.raises(LoginThrottled):
        await attempt
    # Unlocked, the same request gets its token; a wrong password is 401, the name counted.
    fresh = LoginThrottle()
    token, _ = await issue_token(
        store, system_clock, fresh, _login(creds.user, creds.password), "http://x", None
    )
    assert token
    for name in (creds.user, "no-such-user"):
        for _ in range(5):
            with pytest.raises(KeystoneUnauthorized):
                await issue_token(store, system_clock, fresh, _login(name, "wrong"), "http://x", None)
        with pytest.raises(LoginThrottled, match="user name is locked"):
            await issue_token(store, system_clock, fresh, _login(name, creds.password), "http://x", None)
