"""Verifying SDK-HMAC-SHA256 signatures exactly as huaweicloudsdkcore's Signer makes them.

No maintained library verifies this scheme (the SDK only signs), so the canonical request is
rebuilt here, step by step as the SDK's signer.py builds it, and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from taskcenter.domain.errors import AuthenticationFailed

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
# Paths and queries made only of characters that percent-encoding leaves alone: their canonical
# form is themselves, and every poll's request is one of them (unquote/quote cost microseconds).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9\-._~=&]*")
_HEX = re.compile(r"[0-9a-fA-F]+")
_SDK_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
_AUTHORIZATION = re.compile(
    r"SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)"
)


@dataclass(frozen=True, slots=True)
class Signature:
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


# Everything before "Signature=" in the headers already parsed: the access key and signed
# headers, which a client repeats on every request. Bounded like the credential caches.
_known_heads: dict[str, tuple[str, tuple[str, ...]]] = {}


def parse_authorization(value: str) -> Signature:
    head, _, tail = value.strip().rpartition("Signature=")
    known = _known_heads.get(head)
    if known is not None and _HEX.fullmatch(tail):  # the same answer as the full match below
        return Signature(known[0], known[1], tail.lower())
    match = _AUTHORIZATION.fullmatch(value.strip())
    if not match:
        raise AuthenticationFailed(
            "Authorization header is not 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=HEX'."
        )
    headers = tuple(match.group(2).split(";"))
    if len(_known_heads) >= 10_000:
        _known_heads.clear()
    _known_heads[head] = (match.group(1), headers)
    return Signature(match.group(1), headers, match.group(3).lower())


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    if _PLAIN_PATH.fullmatch(path):
        return path if path.endswith("/") else path + "/"
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query_string: str) -> str:
    if "&" not in query_string and _PLAIN_QUERY.fullmatch(query_string):  # one plain parameter: a poll
        return query_string if "=" in query_string or not query_string else query_string + "="
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    pairs.sort()
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def payload_hash(body: bytes, headers: Mapping[str, str]) -> str:
    if not body:
        return EMPTY_HASH
    declared = headers.get("x-sdk-content-sha256")
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def string_to_sign(
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    body: bytes,
) -> str:
    canonical_headers = "".join([f"{name}:{(headers.get(name) or '').strip()}\n" for name in signed_headers])
    canonical_request = "\n".join(
        (
            method.upper(),
            canonical_uri(path),
            canonical_query(query_string),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash(body, headers),
        )
    )
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    return f"{ALGORITHM}\n{headers.get('x-sdk-date', '')}\n{digest}"


def keyed(secret_key: str) -> hmac.HMAC:
    """An HMAC-SHA256 keyed with the secret, to copy for each request of that access key.

    Copying skips re-keying, and feeding a short message to a copy keeps the GIL, where the
    one-shot hmac.digest releases it: on the poll path that handed the GIL to the store's
    reader thread on every signed request.
    """
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


def sign(key: hmac.HMAC, to_sign: str) -> str:
    mac = key.copy()
    mac.update(to_sign.encode())
    return mac.hexdigest()


_recent_dates: dict[str, datetime] = {}


def _sdk_date(raw: str) -> datetime | None:
    """YYYYMMDDTHHMMSSZ as a datetime; strptime took longer than verifying the signature.

    Every request signed in the same second carries the same date, so the last few are kept.
    """
    if (known := _recent_dates.get(raw)) is not None:
        return known
    match = _SDK_DATE.fullmatch(raw)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = map(int, match.groups())
        parsed = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # a month 13, a February 30
        return None
    if len(_recent_dates) >= 64:
        _recent_dates.clear()
    _recent_dates[raw] = parsed
    return parsed


def check_date(headers: Mapping[str, str], signature: Signature, now: datetime) -> None:
    raw = headers.get("x-sdk-date")
    if not raw or "x-sdk-date" not in signature.signed_headers:
        raise AuthenticationFailed("the signed request has no signed X-Sdk-Date header.")
    sent = _sdk_date(raw)
    if sent is None:
        raise AuthenticationFailed(f"X-Sdk-Date {raw!r} is not in the form YYYYMMDDTHHMMSSZ.")
    if abs(now - sent) > MAX_CLOCK_SKEW:
        raise AuthenticationFailed(
            f"X-Sdk-Date {raw} is more than 15 minutes away from the server's time "
            f"{now.strftime(DATE_FORMAT)}; check the client's clock."
        )
    if headers.get("x-sdk-content-sha256") and "x-sdk-content-sha256" not in signature.signed_headers:
        raise AuthenticationFailed("X-Sdk-Content-Sha256 must be among the signed headers.")


def verify(
    key: hmac.HMAC,
    signature: Signature,
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
) -> None:
    expected = sign(
        key,
        string_to_sign(method, path, query_string, headers, signature.signed_headers, body),
    )
    if not hmac.compare_digest(expected, signature.signature):
        raise AuthenticationFailed(
            "verify aksk signature fail: the signature does not match the request "
            "(check the secret key, and that no proxy rewrote the path, query or signed headers)."
        )
