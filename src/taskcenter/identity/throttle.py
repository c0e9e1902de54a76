"""Failed logins at POST /v3/auth/tokens lock the user name, or the client address, for a while.

As IAM locks a user after repeated wrong passwords: five failures of one user name within 15
minutes lock that name for a minute, and each further lock lasts twice as long as the one before,
up to IAM's 15 minutes. A client address is locked the same way after twenty failures, whatever
the names (several users may share one address, behind NAT). While either is locked, every
attempt is refused before its password is checked, the right password included: a guesser learns
nothing from it, and it costs no Argon2 hash.

A name is locked whether or not a user has it, with the same answer, so a lock tells nothing of
which names exist. The address is the connection's (the ASGI scope's client): X-Forwarded-For is
anyone's to write. An IPv6 address counts by its /64, which one host usually holds whole.

The counts are kept in memory, per node: with several nodes behind a balancer a guesser gets each
node's allowance, and a restart forgets them. Memory is bounded: each table keeps at most
MAX_ENTRIES records (a name as a 16-byte digest, however long), dropping the least recently
failed one past that. Only a failure makes a record, and each costs an Argon2 hash of the
server's time; so pushing a lock out of the table takes MAX_ENTRIES fresh failures for five more
guesses, far slower than waiting for the lock to end.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass

from taskcenter.domain.errors import LoginThrottled

NAME_FAILURES = 5
ADDRESS_FAILURES = 20
WINDOW_SECONDS = 15 * 60.0  # failures count within this time of the first; IAM's counter reset
FIRST_LOCK_SECONDS = 60.0
LONGEST_LOCK_SECONDS = 15 * 60.0  # IAM's lock
MAX_ENTRIES = 20_000  # per table; a few hundred bytes each

log = logging.getLogger("taskcenter.identity")


@dataclass(slots=True)
class _Record:
    failures: int = 0  # in the window that began at window_start
    window_start: float = 0.0
    locks: int = 0  # locks in a row: each twice as long as the one before
    locked_until: float = 0.0

    def is_stale(self, now: float) -> bool:
        """Not locked, and nothing within a window: forgotten, the next lock the first again."""
        return now >= max(self.window_start, self.locked_until) + WINDOW_SECONDS


class _Failures:
    """Failures and locks per key, least recently failed first."""

    def __init__(self, limit: int, max_entries: int) -> None:
        self._limit = limit
        self._max_entries = max_entries
        self._records: OrderedDict[object, _Record] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def locked_for(self, key: object, now: float) -> float:
        """Seconds until ``key``'s lock ends; 0 when it is not locked."""
        record = self._records.get(key)
        if record is None or record.locked_until <= now:
            return 0.0
        # At most a longest lock, should the wall clock have been set back meanwhile.
        return min(record.locked_until - now, LONGEST_LOCK_SECONDS)

    def fail(self, key: object, now: float) -> float:
        """Counts a failure; the length of the lock it starts, or 0."""
        record = self._records.get(key)
        if record is None or record.is_stale(now):
            record = self._records[key] = _Record()
            if len(self._records) > self._max_entries:
                self._records.popitem(last=False)
        self._records.move_to_end(key)
        if record.failures == 0 or now - record.window_start > WINDOW_SECONDS:
            record.failures, record.window_start = 0, now
        record.failures += 1
        if record.failures < self._limit:
            return 0.0
        record.failures = 0
        record.locks += 1
        seconds = min(FIRST_LOCK_SECONDS * (1 << min(record.locks - 1, 16)), LONGEST_LOCK_SECONDS)
        record.locked_until = now + seconds
        return seconds

    def forget(self, key: object) -> None:
        self._records.pop(key, None)


class LoginThrottle:
    """The failed logins of one node (see the module's docstring)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._names = _Failures(NAME_FAILURES, max_entries)
        self._addresses = _Failures(ADDRESS_FAILURES, max_entries)

    def check(self, name: str, address: str | None, now: float) -> None:
        """LoginThrottled while the name or the address is locked; ``now`` in epoch seconds."""
        wait = self._names.locked_for(_name_key(name), now)
        if wait:
            seconds = math.ceil(wait)
            raise LoginThrottled(
                f"The user name is locked after {NAME_FAILURES} failed logins; "
                f"try again in {seconds} seconds.",
                f"该用户名登录失败 {NAME_FAILURES} 次，已被锁定，请在 {seconds} 秒后重试。",
            )
        wait = self._addresses.locked_for(_address_key(address), now)
        if wait:
            seconds = math.ceil(wait)
            raise LoginThrottled(
                f"This client address is locked after {ADDRESS_FAILURES} failed logins; "
                f"try again in {seconds} seconds.",
                f"该客户端地址登录失败 {ADDRESS_FAILURES} 次，已被锁定，请在 {seconds} 秒后重试。",
            )

    def failed(self, name: str, address: str | None, now: float) -> None:
        """Counts a wrong password (or an unknown name) against both; logs a lock that starts."""
        shown = _shown(name)
        seconds = self._names.fail(_name_key(name), now)
        if seconds:
            log.warning(
                "login locked: user name %s for %d s after %d failed logins (last from %s)",
                shown, seconds, NAME_FAILURES, address,
            )  # fmt: skip
        seconds = self._addresses.fail(_address_key(address), now)
        if seconds:
            log.warning(
                "login locked: client address %s for %d s after %d failed logins (last for user name %s)",
                _address_key(address), seconds, ADDRESS_FAILURES, shown,
            )  # fmt: skip

    def succeeded(self, name: str) -> None:
        """The right password: the name's failures are forgotten. The address's are not, or one
        account's password would let its holder guess at every other name without end."""
        self._names.forget(_name_key(name))


def _name_key(name: str) -> bytes:
    return hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _address_key(address: str | None) -> str:
    if address is None:
        return ""  # no client address (a Unix socket): all such clients share one count
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))
    return str(ip)


def _shown(name: str) -> str:
    """The name for a log line: it is user input, so quoted with control characters escaped
    (repr), and cut short."""
    return repr(name[:64]) + ("..." if len(name) > 64 else "")
