"""Verifying SDK-HMAC-SHA256 signatures exactly as huaweicloudsdkcore's Signer makes them.

No maintained library verifies this scheme (the SDK only signs), so the canonical request is
rebuilt here, step by step as the SDK's signer.py builds it, and compared in constant time. Its
last steps (joining, SHA-256, HMAC) are C, in _sdk_hmac.c; the rest stays readable Python.

It works on the headers as the wire carried them (lower-case names, raw bytes): the SDK sends
each value as its UTF-8 bytes and hashes those same bytes, so nothing is decoded here. Every
signed poll passes through this module, and decoding each header cost more than hashing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.identity import _sdk_hmac

DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW_SECONDS = 15 * 60
EMPTY_HASH = hashlib.sha256(b"").hexdigest().encode()
# Paths made only of characters that percent-encoding leaves alone: their canonical form is
# themselves, and every poll's path is one of them (unquote/quote cost microseconds).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")
# The bytes of a single parameter that percent-encoding leaves alone, "=" included: what
# bytes.translate deletes, leaving nothing of a poll's query (faster than a bytes pattern).
_PLAIN_PARAMETER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~="
_METHODS = {method: method.encode() for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")}
_SIGNATURE = rb"[0-9a-fA-F]{64}"  # an HMAC-SHA256 in hex
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_SDK_DATE = re.compile(rb"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
_AUTHORIZATION = re.compile(
    rb"SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=(" + _SIGNATURE + rb")"
)
_MALFORMED = "Authorization header is not 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=HEX'."

Headers = dict[bytes, bytes]
"""A request's headers: lower-case names to values, both as bytes, as ASGI servers give them."""


@dataclass(frozen=True, slots=True)
class SignedHead:
    """What precedes "Signature=" in the Authorization header, which a client repeats on every
    request: parsed once per client (see parse_authorization)."""

    access_key: str
    signed_headers: tuple[bytes, ...]
    signed_list: bytes  # the names joined by ";", as the canonical request lists them


# Bounded like the credential caches: emptied when full.
_known_heads: dict[bytes, SignedHead] = {}


def parse_authorization(value: bytes) -> tuple[SignedHead, bytes]:
    """The signer's head and the signature (lower-case hex) of an Authorization header."""
    value = value.strip()
    head, _, signature = value.rpartition(b"Signature=")
    known = _known_heads.get(head)
    if known is not None:
        # What the full match below would refuse (translate: a bytes pattern cost more).
        if len(signature) != 64 or signature.translate(None, _HEX_DIGITS):
            raise AuthenticationFailed(_MALFORMED)
        return known, signature.lower()
    match = _AUTHORIZATION.fullmatch(value)
    if not match:
        raise AuthenticationFailed(_MALFORMED)
    names = match.group(2)
    parsed = SignedHead(match.group(1).decode("latin-1"), tuple(names.split(b";")), names)
    if len(_known_heads) >= 10_000:
        _known_heads.clear()
    _known_heads[head] = parsed
    return parsed, match.group(3).lower()


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    if _PLAIN_PATH.fullmatch(path):
        return path if path.endswith("/") else path + "/"
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


# The canonical URI of the paths recently signed: a poller repeats its path (only the query
# changes), and canonicalising and encoding it cost more than this lookup. Bounded: emptied when
# full.
_known_uris: dict[str, bytes] = {}


def _uri(path: str) -> bytes:
    uri = _known_uris.get(path)
    if uri is None:
        uri = canonical_uri(path).encode()
        if len(_known_uris) >= 10_000:
            _known_uris.clear()
        _known_uris[path] = uri
    return uri


def canonical_query(query_string: bytes) -> bytes:
    """The SDK's canonical query of the raw query string, which ASGI servers give as bytes."""
    # One plain parameter (a poll's): itself. A second "=" belongs to the value, and is encoded.
    if not query_string.translate(None, _PLAIN_PARAMETER) and query_string.count(b"=") <= 1:
        return query_string if b"=" in query_string or not query_string else query_string + b"="
    pairs = []
    for part in query_string.decode("latin-1").split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    pairs.sort()
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs).encode()


def payload_hash(body: bytes, headers: Headers) -> bytes:
    if not body:
        return EMPTY_HASH
    declared = headers.get(b"x-sdk-content-sha256")
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest().encode()


_recent_dates: dict[bytes, float] = {}


def _sdk_date(raw: bytes) -> float | None:
    """YYYYMMDDTHHMMSSZ as seconds since the epoch; strptime took longer than the signature.

    Every request signed in the same second carries the same date, so the last few are kept.
    """
    if (known := _recent_dates.get(raw)) is not None:
        return known
    match = _SDK_DATE.fullmatch(raw)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = map(int, match.groups())
        parsed = datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError:  # a month 13, a February 30
        return None
    if len(_recent_dates) >= 64:
        _recent_dates.clear()
    _recent_dates[raw] = parsed
    return parsed


def check_date(headers: Headers, head: SignedHead, now: float) -> None:
    """The signed X-Sdk-Date is well formed and within 15 minutes of ``now`` (epoch seconds)."""
    raw = headers.get(b"x-sdk-date")
    if not raw or b"x-sdk-date" not in head.signed_headers:
        raise AuthenticationFailed("the signed request has no signed X-Sdk-Date header.")
    sent = _sdk_date(raw)
    if sent is None:
        raise AuthenticationFailed(
            f"X-Sdk-Date {raw.decode('latin-1')!r} is not in the form YYYYMMDDTHHMMSSZ."
        )
    if abs(now - sent) > MAX_CLOCK_SKEW_SECONDS:
        raise AuthenticationFailed(
            f"X-Sdk-Date {raw.decode('latin-1')} is more than 15 minutes away from the server's time "
            f"{time.strftime(DATE_FORMAT, time.gmtime(now))}; check the client's clock."
        )
    if headers.get(b"x-sdk-content-sha256") and b"x-sdk-content-sha256" not in head.signed_headers:
        raise AuthenticationFailed("X-Sdk-Content-Sha256 must be among the signed headers.")


def verify(
    secret: bytes,
    head: SignedHead,
    signature: bytes,
    method: str,
    path: str,
    query_string: bytes,
    headers: Headers,
    body: bytes,
) -> None:
    """The signature is the one the SDK's Signer makes of this request with ``secret``.

    The canonical request is the SDK's: method, canonical URI and query, each signed header as
    "name:value" (stripped), the signed header list and the payload hash, joined by newlines.
    _sdk_hmac (C) joins, hashes and signs it: in Python that was most of an AK/SK poll's own cost.
    """
    expected = _sdk_hmac.signature(
        secret,
        _METHODS.get(method) or method.upper().encode(),
        _uri(path),
        canonical_query(query_string),
        headers,
        head.signed_headers,
        head.signed_list,
        payload_hash(body, headers),
        headers.get(b"x-sdk-date", b""),
    )
    if not hmac.compare_digest(expected, signature):
        raise AuthenticationFailed(
            "verify aksk signature fail: the signature does not match the request "
            "(check the secret key, and that no proxy rewrote the path, query or signed headers)."
        )
