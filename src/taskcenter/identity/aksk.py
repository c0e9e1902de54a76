"""Verifying SDK-HMAC-SHA256 signatures exactly as huaweicloudsdkcore's Signer makes them.

No maintained library verifies this scheme (the SDK only signs), so the canonical request is
rebuilt as the SDK's signer.py builds it, and compared in constant time. A request's whole check
is one call into C (_sdk_hmac.c says why); this module parses the Authorization header,
canonicalises a path or query that needs percent-encoding (with quote(), as the SDK does), and
words what is wrong.

It works on the headers as the wire carried them (lower-case names, raw bytes): the SDK sends
each value as its UTF-8 bytes and hashes those same bytes, so nothing is decoded here. Every
signed poll passes through this module, and decoding each header cost more than hashing.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote

from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.identity import _sdk_hmac
from taskcenter.identity._sdk_hmac import (  # _sdk_hmac.check's outcomes
    DATE_SKEW,
    MALFORMED_DATE,
    MALFORMED_SIGNATURE,
    NO_DATE,
    NOT_PLAIN,
    UNCHECKED,
    UNSIGNED_CONTENT_HASH,
    VERIFIED,
)

DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = re.compile(
    rb"SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]{64})"
)
_MALFORMED = "Authorization header is not 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=HEX'."

Headers = dict[bytes, bytes]
"""A request's headers: lower-case names to values, both as bytes, as ASGI servers give them."""


@dataclass(frozen=True, slots=True)
class SignedHead:
    """What precedes "Signature=" in the Authorization header, which a client repeats on every
    request: the authenticator keeps it parsed, per client."""

    access_key: str
    signed_headers: tuple[bytes, ...]
    signed_list: bytes  # the names joined by ";", as the canonical request lists them


def split_authorization(value: bytes) -> tuple[bytes, bytes]:
    """The head of an Authorization header (see SignedHead) and what follows "Signature="."""
    head, _, signature = value.strip().rpartition(b"Signature=")
    return head, signature


def parse_authorization(value: bytes) -> SignedHead:
    """The signer's head of an Authorization header, which must be whole and well formed."""
    match = _AUTHORIZATION.fullmatch(value.strip())
    if not match:
        raise AuthenticationFailed(_MALFORMED)
    names = match.group(2)
    return SignedHead(match.group(1).decode("latin-1"), tuple(names.split(b";")), names)


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query_string: bytes) -> bytes:
    """The SDK's canonical query of the raw query string, which ASGI servers give as bytes."""
    pairs = []
    for part in query_string.decode("latin-1").split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    pairs.sort()
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs).encode()


def precheck(head: SignedHead, signature: bytes, headers: Headers, now: float) -> None:
    """What can be refused before the access key is looked up: the signature's form, a signed
    X-Sdk-Date within 15 minutes of ``now`` (epoch seconds), a signed X-Sdk-Content-Sha256 if one
    is sent. The signature itself is left to verify()."""
    outcome = _sdk_hmac.check(
        None, head.signed_headers, head.signed_list, signature, "", b"", b"", headers, b"", now
    )
    if outcome != UNCHECKED:
        raise AuthenticationFailed(_failure(outcome, headers, now))


def verify(
    secret: bytes,
    head: SignedHead,
    signature: bytes,
    method: str,
    path: str,
    query_string: bytes,
    headers: Headers,
    body: bytes,
    now: float,
) -> None:
    """The request is signed as the SDK's Signer signs it, with ``secret``, or AuthenticationFailed
    says why: everything precheck() checks, then the signature of the canonical request."""
    args = (secret, head.signed_headers, head.signed_list, signature, method)
    outcome = _sdk_hmac.check(*args, path, query_string, headers, body, now)
    if outcome == NOT_PLAIN:
        uri = canonical_uri(path).encode()
        outcome = _sdk_hmac.check(*args, uri, canonical_query(query_string), headers, body, now)
    if outcome != VERIFIED:
        raise AuthenticationFailed(_failure(outcome, headers, now))


def _failure(outcome: int, headers: Headers, now: float) -> str:
    date = headers.get(b"x-sdk-date", b"").decode("latin-1")
    if outcome == MALFORMED_SIGNATURE:
        return _MALFORMED
    if outcome == NO_DATE:
        return "the signed request has no signed X-Sdk-Date header."
    if outcome == MALFORMED_DATE:
        return f"X-Sdk-Date {date!r} is not in the form YYYYMMDDTHHMMSSZ."
    if outcome == DATE_SKEW:
        return (
            f"X-Sdk-Date {date} is more than 15 minutes away from the server's time "
            f"{time.strftime(DATE_FORMAT, time.gmtime(now))}; check the client's clock."
        )
    if outcome == UNSIGNED_CONTENT_HASH:
        return "X-Sdk-Content-Sha256 must be among the signed headers."
    return (
        "verify aksk signature fail: the signature does not match the request "
        "(check the secret key, and that no proxy rewrote the path, query or signed headers)."
    )
