"""Who is calling: a principal from X-Auth-Token or from an AK/SK-signed request.

Both lookups are cached in memory for a short time: the GET-by-id path must not pay a
database round trip for the credential on every poll. A minute bounds how long a revoked
credential could still be honoured on a node.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from time import monotonic
from typing import Generic, TypeVar

from taskcenter.domain.clock import Clock, system_clock
from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.domain.principals import IssuedToken, Principal
from taskcenter.identity import aksk
from taskcenter.identity.secrets import token_hash
from taskcenter.ports.identity import IdentityPort

CACHE_SECONDS = 60.0
CACHE_ENTRIES = 100_000
SIGNERS_ENTRIES = 10_000  # a client's Authorization head: up to a few hundred bytes each

K = TypeVar("K")
V = TypeVar("V")


class _RecentCache(Generic[K, V]):
    """A dict whose entries are trusted for CACHE_SECONDS.

    Written here rather than cachetools.TTLCache because this sits on the hottest path:
    TTLCache expires entries on every access (several microseconds); this is one dict lookup
    and one comparison. When full it is simply emptied: refilling costs a query per caller.
    """

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self._entries: dict[K, tuple[float, V]] = {}
        self._max_entries = entries

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)  # not through get_stamped: every poll comes here
        if entry is None or monotonic() - entry[0] > CACHE_SECONDS:
            return None
        return entry[1]

    def get_stamped(self, key: K) -> tuple[float, V] | None:
        """The entry with the monotonic() it was put at."""
        entry = self._entries.get(key)
        if entry is None or monotonic() - entry[0] > CACHE_SECONDS:
            return None
        return entry

    def put(self, key: K, value: V, stamp: float | None = None) -> None:
        """``stamp``: when what ``value`` derives from was fetched, if not now."""
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (monotonic() if stamp is None else stamp, value)


class Authenticator:
    def __init__(self, store: IdentityPort, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        # Keyed by the token itself, which the request carries anyway: hashing it is needed
        # only to find it in the store.
        self._tokens: _RecentCache[bytes, IssuedToken] = _RecentCache()
        self._keys: _RecentCache[str, tuple[bytes, Principal]] = _RecentCache()
        # Keyed by what precedes "Signature=" in the Authorization header (the access key and
        # the signed header names), which a client repeats on every request: parsed once, and
        # found with its key in one lookup.
        self._signers: _RecentCache[bytes, tuple[aksk.SignedHead, bytes, Principal]] = _RecentCache(
            SIGNERS_ENTRIES
        )
        # The signed date is checked against the clock: time.time() is the system clock's
        # timestamp without building a datetime (a third of a microsecond on every signed poll).
        self._now: Callable[[], float] = time.time if clock is system_clock else lambda: clock().timestamp()

    async def authenticate(
        self,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        raw_headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> Principal:
        """The caller's principal, or AuthenticationFailed saying what is wrong.

        ``raw_path`` is the path as the client sent it, not percent-decoded (ASGI's raw_path: a
        signature covers what was sent); ``raw_headers`` are (lower-case name, value) byte pairs
        as ASGI servers give them; they stay bytes (see aksk).
        """
        headers = dict(raw_headers)
        token = headers.get(b"x-auth-token")
        if token:
            return await self._from_token(token)
        authorization = headers.get(b"authorization")
        if authorization:
            return await self._from_signature(authorization, method, raw_path, query_string, headers, body)
        raise AuthenticationFailed(
            "x-auth-token not found, and the request is not signed with AK/SK (no Authorization header).",
            "未找到 x-auth-token，请求也没有用 AK/SK 签名（没有 Authorization 请求头）。",
        )

    async def _from_token(self, token: bytes) -> Principal:
        issued = self._tokens.get(token)
        if issued is None:
            issued = await self._store.get_token(token_hash(token.decode("latin-1")))
            if issued is None:
                raise AuthenticationFailed(
                    "the X-Auth-Token is not a token this service issued.",
                    "X-Auth-Token 不是本服务签发的 token。",
                )
            self._tokens.put(token, issued)
        if issued.expires_at <= self._clock():
            raise AuthenticationFailed(
                "token expires: the X-Auth-Token expired; get a new one from POST /v3/auth/tokens.",
                "X-Auth-Token 已过期，请通过 POST /v3/auth/tokens 获取新的 token。",
            )
        return issued.principal

    async def _from_signature(
        self,
        authorization: bytes,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: aksk.Headers,
        body: bytes,
    ) -> Principal:
        head_bytes, signature = aksk.split_authorization(authorization)
        now = self._now()
        signer = self._signers.get(head_bytes)
        if signer is not None:
            head, secret, principal = signer
            aksk.verify(secret, head, signature, method, raw_path, query_string, headers, body, now)
            return principal
        head = aksk.parse_authorization(authorization)
        # What needs no key first: a stale or malformed request costs no key lookup.
        aksk.precheck(head, signature, headers, body, now)
        found = self._keys.get_stamped(head.access_key)
        if found is None:
            stored = await self._store.get_access_key(head.access_key)
            if stored is None:
                raise aksk.SignatureRefused("the access key (AK) is unknown.")
            found = (monotonic(), (stored[0].secret_key.encode(), stored[1]))
            self._keys.put(head.access_key, found[1], stamp=found[0])
        fetched, (secret, principal) = found
        aksk.verify(secret, head, signature, method, raw_path, query_string, headers, body, now)
        # Only a verified request's head is kept: one that anyone could send (an access key is
        # not a secret) would let them fill this cache with whatever headers they like. It
        # expires with the key's entry, so a revoked key is honoured no longer than CACHE_SECONDS.
        self._signers.put(head_bytes, (head, secret, principal), stamp=fetched)
        return principal
