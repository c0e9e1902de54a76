"""Verifying SDK-HMAC-SHA256 signatures exactly as huaweicloudsdkcore's Signer makes them.

No maintained library verifies this scheme (the SDK only signs), so the canonical request is
rebuilt as the SDK's signer.py builds it, and compared in constant time. A request's whole check
is one call into C (_sdk_hmac.c says why), or into its pure-Python twin where the C is not built
(sdk_hmac.py chooses); this module parses the Authorization header, canonicalises a path or query
that needs percent-encoding (with quote(), as the SDK does), and words what is wrong.

The path is the one the client sent, not the one ASGI servers decode for the application: the
SDK signs the path it sends, decoded once and re-encoded (an id holding "%41" is sent as
"%2541"); decoding the server's already decoded path a second time made that "A".

It works on the headers as the wire carried them (lower-case names, raw bytes): the SDK sends
each value as its UTF-8 bytes and hashes those same bytes, so nothing is decoded here. Every
signed poll passes through this module, and decoding each header cost more than hashing.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_plus

from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.identity.sdk_hmac import (  # check() and its outcomes, from C or its Python twin
    BODY_HASH_MISMATCH,
    DATE_SKEW,
    MALFORMED_DATE,
    MALFORMED_SIGNATURE,
    NO_DATE,
    NOT_PLAIN,
    UNCHECKED,
    UNSIGNED_CONTENT_HASH,
    VERIFIED,
    check,
)

DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = re.compile(
    rb"SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]{64})"
)
_MALFORMED = "Authorization header is not 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=HEX'."
_MALFORMED_ZH = (
    "Authorization 请求头的格式不是 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=HEX'。"
)

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


class SignatureRefused(AuthenticationFailed):
    """An unknown access key, or a signature that is not the request's with the key's secret: one
    answer for both, or the answer would tell anyone which access keys exist. Which it was goes
    to the server's log only (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "verify aksk signature fail: the access key is unknown, or the signature does not match "
            "the request (check the access key and the secret key, and that no proxy rewrote the "
            "path, query or signed headers).",
            "验证 AK/SK 签名失败：访问密钥（AK）不存在，或签名与请求不符（请检查 AK 和 SK，"
            "并确认没有代理改写路径、查询参数或参与签名的请求头）。",
        )
        self.reason = reason


def parse_authorization(value: bytes) -> SignedHead:
    """The signer's head of an Authorization header, which must be whole and well formed."""
    match = _AUTHORIZATION.fullmatch(value.strip())
    if not match:
        raise AuthenticationFailed(_MALFORMED, _MALFORMED_ZH)
    names = match.group(2)
    return SignedHead(match.group(1).decode("latin-1"), tuple(names.split(b";")), names)


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(raw_path: bytes) -> str:
    """The SDK's canonical URI of the path as the client sent it (ASGI's raw_path): decoded once,
    each segment encoded, a "/" at the end. A raw byte that is not ASCII (the SDK sends none) is
    read as UTF-8, as a client that signed the text would have meant it."""
    path = unquote(raw_path.decode("utf-8", "replace"))
    uri = "/".join(_encode(segment) for segment in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query_string: bytes) -> bytes:
    """The SDK's canonical query of the raw query string, which ASGI servers give as bytes.

    The pairs are read as the application reads them (Starlette's parse_qsl, api/polls.py): the
    bytes as latin-1, "+" as a space. What is verified is then what is used: read with unquote(),
    a "+" that a proxy put for a signed "%2B" verified, and the application saw a space. (The SDK
    sends its canonical query, where neither a raw "+" nor a raw byte past ASCII occurs.)"""
    pairs = []
    for part in query_string.decode("latin-1").split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote_plus(key), unquote_plus(value)))
    pairs.sort()
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs).encode()


def precheck(head: SignedHead, signature: bytes, headers: Headers, body: bytes, now: float) -> None:
    """What can be refused before the access key is looked up: the signature's form, a signed
    X-Sdk-Date within 15 minutes of ``now`` (epoch seconds), a signed X-Sdk-Content-Sha256 if one
    is sent, and with a body, that it is the body's SHA-256. The signature itself is left to
    verify(). None of these depends on the key, so none tells whether the key exists."""
    outcome = check(
        None, head.signed_headers, head.signed_list, signature, "", b"", b"", headers, body, now, True
    )
    if outcome != UNCHECKED:
        raise _failure(outcome, headers, now)


def verify(
    secret: bytes,
    head: SignedHead,
    signature: bytes,
    method: str,
    raw_path: bytes,
    query_string: bytes,
    headers: Headers,
    body: bytes,
    now: float,
) -> None:
    """The request is signed as the SDK's Signer signs it, with ``secret``, or AuthenticationFailed
    says why: everything precheck() checks, then the signature of the canonical request.
    ``raw_path`` and ``query_string`` are as the client sent them (ASGI's raw_path, query_string)."""
    args = (secret, head.signed_headers, head.signed_list, signature, method)
    outcome = check(*args, raw_path, query_string, headers, body, now, False)
    if outcome == NOT_PLAIN:
        uri = canonical_uri(raw_path).encode()
        outcome = check(*args, uri, canonical_query(query_string), headers, body, now, True)
    if outcome != VERIFIED:
        raise _failure(outcome, headers, now)


def _failure(outcome: int, headers: Headers, now: float) -> AuthenticationFailed:
    date = headers.get(b"x-sdk-date", b"").decode("latin-1")
    if outcome == MALFORMED_SIGNATURE:
        return AuthenticationFailed(_MALFORMED, _MALFORMED_ZH)
    if outcome == NO_DATE:
        return AuthenticationFailed(
            "the signed request has no signed X-Sdk-Date header.",
            "签名的请求没有参与签名的 X-Sdk-Date 请求头。",
        )
    if outcome == MALFORMED_DATE:
        return AuthenticationFailed(
            f"X-Sdk-Date {date!r} is not in the form YYYYMMDDTHHMMSSZ.",
            f"X-Sdk-Date {date!r} 的格式不是 YYYYMMDDTHHMMSSZ。",
        )
    if outcome == DATE_SKEW:
        server_time = time.strftime(DATE_FORMAT, time.gmtime(now))
        return AuthenticationFailed(
            f"X-Sdk-Date {date} is more than 15 minutes away from the server's time "
            f"{server_time}; check the client's clock.",
            f"X-Sdk-Date {date} 与服务器时间 {server_time} 相差超过 15 分钟，请检查客户端的时钟。",
        )
    if outcome == UNSIGNED_CONTENT_HASH:
        return AuthenticationFailed(
            "X-Sdk-Content-Sha256 must be among the signed headers.",
            "X-Sdk-Content-Sha256 必须是参与签名的请求头。",
        )
    if outcome == BODY_HASH_MISMATCH:
        return AuthenticationFailed(
            "X-Sdk-Content-Sha256 is not the SHA-256 of the request body in lower-case hex "
            "(the body is always signed: UNSIGNED-PAYLOAD is not accepted).",
            "X-Sdk-Content-Sha256 不是请求体的 SHA-256（小写十六进制）"
            "（请求体必须参与签名，不接受 UNSIGNED-PAYLOAD）。",
        )
    return SignatureRefused("the signature does not match the request.")
