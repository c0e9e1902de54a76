"""The pure-Python twin of _sdk_hmac.c: the same check(), the same outcomes for every input.

Chosen by sdk_hmac.py where the C extension is not built (no compiler, no OpenSSL headers) or
when TASKCENTER_PURE_PYTHON=1. _sdk_hmac.c says what check() does and why it is one call; this
follows it step by step, in the same order, so that a request refused for two reasons is refused
for the same one by both. hashlib and hmac are OpenSSL's SHA-256, as the C's.

Where the C reads an argument directly, this does too: a header is looked up with dict.get (not
through an override of a dict subclass), a value that is present but not bytes counts as absent
for the date and the declared hash and is a TypeError among the signed headers, and bytearray
is not bytes. tests/identity/test_sdk_hmac_twins.py holds the two to the same answers.
"""

from __future__ import annotations

import hashlib
import hmac
import operator
from datetime import date
from functools import lru_cache

# check()'s outcomes, the numbers _sdk_hmac.c gives them (a test holds the two equal).
VERIFIED = 0
MALFORMED_SIGNATURE = 1  # what follows "Signature=" is not 64 hex digits
NO_DATE = 2  # no X-Sdk-Date, or not among the signed headers
MALFORMED_DATE = 3  # not YYYYMMDDTHHMMSSZ, or no such day or time
DATE_SKEW = 4  # more than 15 minutes from now
UNSIGNED_CONTENT_HASH = 5  # X-Sdk-Content-Sha256 sent but not signed
MISMATCH = 6  # not the signature of this request with this secret
NOT_PLAIN = 7  # the path or query needs percent-encoding: aksk.py canonicalises
UNCHECKED = 8  # all but the signature checked: no secret was given
BODY_HASH_MISMATCH = 9  # a body, and an X-Sdk-Content-Sha256 that is not its SHA-256

MAX_CLOCK_SKEW_SECONDS = 15 * 60
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EMPTY_HASH = hashlib.sha256(b"").hexdigest().encode()
_HEX_DIGITS = b"0123456789abcdefABCDEF"
# RFC 3986's unreserved characters: a path made of these and "/", or a query of these and one
# "=", is its own canonical form (as is_unreserved() in the C).
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_PATH_CHARACTERS = _UNRESERVED + b"/"
_DATE_NAME = b"x-sdk-date"
_CONTENT_HASH_NAME = b"x-sdk-content-sha256"
_ABSENT = object()
_lookup = dict.get  # PyDict_GetItem's lookup, whatever a dict subclass does to get()


def check(
    secret: bytes | None,
    names: tuple[bytes, ...],
    signed_list: bytes,
    signature: bytes,
    method: str,
    path: bytes,
    query: bytes,
    headers: dict[bytes, bytes],
    body: bytes,
    now: float,
    canonical: bool,
    /,
) -> int:
    """_sdk_hmac.check(), in Python: see _sdk_hmac.c."""
    if (
        (secret is not None and not isinstance(secret, bytes))
        or not isinstance(names, tuple)
        or not isinstance(signed_list, bytes)
        or not isinstance(signature, bytes)
        or not isinstance(method, str)
        or not isinstance(path, bytes)
        or not isinstance(query, bytes)
        or not isinstance(headers, dict)
        or not isinstance(body, bytes)
    ):
        raise TypeError("check() got an argument of the wrong type")
    now = now if type(now) is float else _as_double(now)
    canonical = bool(canonical)

    if len(signature) != 64 or signature.translate(None, _HEX_DIGITS):
        return MALFORMED_SIGNATURE

    sent_date = _lookup(headers, _DATE_NAME)
    if not isinstance(sent_date, bytes) or not sent_date or not _has_name(names, _DATE_NAME):
        return NO_DATE
    sent = _recent_date(sent_date) if type(sent_date) is bytes else _sdk_date(sent_date)
    if sent is None:
        return MALFORMED_DATE
    if now - sent > MAX_CLOCK_SKEW_SECONDS or sent - now > MAX_CLOCK_SKEW_SECONDS:
        return DATE_SKEW
    declared = _lookup(headers, _CONTENT_HASH_NAME)
    if not isinstance(declared, bytes):
        declared = b""
    if declared and not _has_name(names, _CONTENT_HASH_NAME):
        return UNSIGNED_CONTENT_HASH
    uri, canonical_query = path, query
    if secret is not None and not canonical:
        # Before the body is hashed, as in the C: a path aksk.py must canonicalise comes back.
        rest = query.translate(None, _UNRESERVED)
        if path.translate(None, _PATH_CHARACTERS) or rest not in (b"", b"="):
            return NOT_PLAIN
        if not path.endswith(b"/"):
            uri = path + b"/"
        if query and not rest:
            canonical_query = query + b"="

    payload_hash = _EMPTY_HASH
    if body:
        payload_hash = hashlib.sha256(body).hexdigest().encode()
        if declared:
            value = declared.strip()  # as signed; blank is absent, for the SDK too
            if value and value != payload_hash:
                return BODY_HASH_MISMATCH
    if secret is None:
        return UNCHECKED

    lines = [method.encode().upper(), uri, canonical_query]
    for name in names:
        if not isinstance(name, bytes):
            raise TypeError("signed header names must be bytes")
        found: object = _lookup(headers, name, _ABSENT)
        if found is _ABSENT:
            lines.append(name + b":")
        elif isinstance(found, bytes):
            lines.append(name + b":" + found.strip())
        else:
            raise TypeError("header values must be bytes")
    lines += (b"", signed_list, payload_hash)
    digest = hashlib.sha256(b"\n".join(lines)).hexdigest().encode()
    to_sign = b"SDK-HMAC-SHA256\n" + sent_date + b"\n" + digest
    expected = hmac.digest(secret, to_sign, "sha256").hex().encode()
    # In constant time, whatever the case of the given hex digits.
    return VERIFIED if hmac.compare_digest(expected, signature.lower()) else MISMATCH


def _as_double(value: object) -> float:
    """What PyFloat_AsDouble() makes of a number that is not a float: its __float__, else its
    __index__; a str is no number (float() would parse it)."""
    if isinstance(value, float):
        return float.__float__(value)  # the stored value, as the C reads a float subclass
    if hasattr(type(value), "__float__"):
        return float(value)  # type: ignore[arg-type]
    if hasattr(type(value), "__index__"):
        return float(operator.index(value))  # type: ignore[arg-type]
    raise TypeError(f"must be real number, not {type(value).__name__}")


def _has_name(names: tuple[bytes, ...], wanted: bytes) -> bool:
    """Whether a signed header name is ``wanted`` (names that are not bytes never are)."""
    for name in names:  # noqa: SIM110 (a loop takes a third of the time of any() over a generator)
        if name == wanted and isinstance(name, bytes):
            return True
    return False


@lru_cache(maxsize=4096)  # clients sign with the current second: most dates were just parsed
def _recent_date(text: bytes) -> int | None:
    return _sdk_date(text)


def _sdk_date(text: bytes) -> int | None:
    """YYYYMMDDTHHMMSSZ as seconds since the epoch, or None: what datetime() accepts (years
    1-9999, real days, no leap second), in ASCII digits only (int() would take " 1" or "1_0")."""
    if len(text) != 16 or text[8:9] != b"T" or text[15:] != b"Z" or not (text[:8] + text[9:15]).isdigit():
        return None
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:8])
    hour, minute, second = int(text[9:11]), int(text[11:13]), int(text[13:15])
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        days = date(year, month, day).toordinal() - _EPOCH_ORDINAL
    except ValueError:  # year 0, month 13, February 30...
        return None
    return days * 86400 + hour * 3600 + minute * 60 + second
