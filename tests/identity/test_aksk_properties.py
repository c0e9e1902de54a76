"""Property: what the official SDK's Signer signs, both checks accept; what is changed after
signing, both refuse; and the C check and its Python twin always give the same answer.

Random requests (paths with unicode, percent-encodings such as %41 and %2F, spaces, "~" and
reserved characters; repeated and odd query keys and values, sent as the SDK sends them or in
another encoding of the same pairs; random bodies and header sets; dates near the server's) are
signed by huaweicloudsdkcore's own Signer and verified by aksk with each implementation of
check(). A request changed after signing is refused unless the signer itself signs the changed
request alike (it does for "/a" and "/a/", or a header value padded with spaces): the oracle for
a change is the signer, asked to sign the changed request at the same date. Two things are
refused on purpose although the signer would sign them: a body that is not the one whose hash
X-Sdk-Content-Sha256 declares (the signer signs the declared value and never hashes the body),
and so UNSIGNED-PAYLOAD with a body; see aksk.py.

The example count is bounded for the normal suite (properties.py); bench/aksk_properties.py runs
these with 10,000 or more.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import quote, quote_plus

import pytest
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from hypothesis import event, given, settings
from hypothesis import strategies as st

from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.identity import aksk, sdk_hmac
from taskcenter.identity.sdk_hmac import Implementation
from tests.identity.properties import PROPERTY_SETTINGS
from tests.identity.sdk_hmac_implementations import IMPLEMENTATIONS, using

AK = "HPUAXXXXXXXXXXXXXXXX"
HOST = "127.0.0.1:8080"
NOW = float(int(datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC).timestamp()))  # whole seconds
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


def _built(implementation: Implementation) -> bool:
    try:
        sdk_hmac.load(implementation)
    except ImportError:
        return False
    return True


# Where the C is not built, the Python check is still held to the signer (and to nothing else).
BUILT = [implementation for implementation in IMPLEMENTATIONS if _built(implementation)]

# --- What a request is made of -----------------------------------------------------------------

CHARACTER = st.characters(blacklist_categories=["Cs"])  # any text the SDK can send as UTF-8
PERCENT = st.sampled_from(
    ["%41", "%2F", "%2f", "%25", "%20", "%7E", "%3F", "%E4%BB%BB", "%FF", "%", "%%41", "%4"]
)
RESERVED = st.sampled_from(list(":@!$&'()*+,;= ~."))
PIECE = st.text(st.one_of(CHARACTER.filter(lambda c: c not in "/?#"), RESERVED), max_size=8)
# A path segment: raw text, percent-encodings, or a path parameter as the SDK's client puts it.
SEGMENT = st.lists(st.one_of(PIECE, PERCENT, PIECE.map(lambda s: quote(s, safe=""))), max_size=4).map("".join)
PATH = st.builds(
    lambda segments, slash: "/" + "/".join(segments) + ("/" if slash else ""),
    st.lists(SEGMENT, max_size=5),
    st.booleans(),
)
ODD_TEXT = ["", "=", "a=b", "==", "&", "%41", "%2F", " ", "a b", "+", "~", "x_y.z~", "任务", "id", "A"]
KEY = st.one_of(st.sampled_from(ODD_TEXT), st.text(CHARACTER, max_size=6))
VALUE = st.one_of(st.sampled_from(ODD_TEXT), st.text(CHARACTER, max_size=10))
PAIRS = st.lists(st.tuples(KEY, VALUE), max_size=6)
SPECIAL_HEADERS = {"host", "x-sdk-date", "authorization", "content-type", "x-sdk-content-sha256"}
TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
HEADER_NAME = st.builds(
    lambda first, rest, unsigned: first + rest + unsigned,  # the SDK signs no name holding "_"
    st.sampled_from(TOKEN[:52]),
    st.text(st.sampled_from(TOKEN), max_size=10),
    st.sampled_from(["", "", "", "_x", "_id"]),
).filter(lambda name: name.lower() not in SPECIAL_HEADERS)
HEADER_VALUE = st.text(CHARACTER, max_size=12)
HEADERS = st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=5, unique_by=lambda h: h[0].lower())
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/json",
        "application/json;charset=UTF-8",
        "application/bson",
        "text/plain",
    ]
)
DECLARED = st.sampled_from([None] * 6 + ["hash", "hash", " ", "HASH", "UNSIGNED-PAYLOAD", "0" * 64])
BODY = st.one_of(st.binary(max_size=64), st.text(CHARACTER, max_size=32).map(str.encode))
ASCII_SPACE = st.text(st.sampled_from(" \t\n\r\x0b\x0c"), max_size=2)


@dataclass(frozen=True)
class Request:
    """A request as the client builds it before signing, and the date it is signed at."""

    secret: str
    method: str
    path: str
    pairs: list[tuple[str, str]]
    headers: dict[str, str]  # what the client sets (Host and X-Sdk-Date included)
    body: bytes

    def sdk_request(self) -> SdkRequest:
        return SdkRequest(
            method=self.method,
            schema="http",
            host=HOST,
            resource_path=self.path,
            query_params=list(self.pairs),
            header_params=dict(self.headers),
            body=self.body or None,
        )


def signed(request: Request) -> SdkRequest | None:
    """The request as the SDK's Signer signs and sends it; None where the signer refuses to."""
    sdk = request.sdk_request()
    try:
        Signer(SimpleNamespace(ak=AK, sk=request.secret)).sign(sdk)
    except ValueError:  # an X-Sdk-Date it cannot parse
        return None
    return sdk


def signer_signs_alike(changed: Request, original: str, wire: Wire) -> bool:
    """The oracle for a change: whether the signer, asked at the same date to sign the request
    that the changed one must have been, gives the original signature, and would send the signed
    headers as the server got them (it puts its own X-Sdk-Content-Sha256 for a body that is not
    JSON, whatever the client set)."""
    sdk = signed(changed)
    if sdk is None or sdk.header_params["Authorization"] != original:
        return False
    sent = on_the_wire(sdk).headers
    names = aksk.parse_authorization(original.encode()).signed_headers
    return all(sent.get(name, b"").strip() == wire.headers.get(name, b"").strip() for name in names)


@dataclass(frozen=True)
class Wire:
    """What the server gets: ASGI's raw_path, query_string, headers (lower-case names, values
    as the bytes sent), and the body."""

    method: str
    raw_path: bytes
    query: bytes
    headers: dict[bytes, bytes]
    body: bytes


def on_the_wire(sdk: SdkRequest, query: bytes | None = None) -> Wire:
    """As the SDK sends it: each header value's UTF-8 bytes (the SDK leaves them as latin-1 text),
    the path as signed, and the signer's canonical query unless another encoding is given."""
    headers = {str(k).lower().encode(): str(v).encode("latin-1") for k, v in sdk.header_params.items()}
    sent_query = Signer.process_canonical_query_string(sdk).encode() if query is None else query
    return Wire(sdk.method, sdk.resource_path.encode(), sent_query, headers, sdk.body or b"")


def verdicts(secret: str, wire: Wire) -> dict[str, str]:
    """Each implementation's answer, as the authenticator asks on a client's first request (the
    precheck, then the signature) and on the next ones (the signature alone)."""
    answers: dict[str, str] = {}
    for implementation in BUILT:
        with using(implementation):
            answers[implementation] = _verdict(secret, wire)
    return answers


def _verdict(secret: str, wire: Wire) -> str:
    value = wire.headers[b"authorization"]
    head = aksk.parse_authorization(value)
    _, signature = aksk.split_authorization(value)
    try:
        aksk.precheck(head, signature, wire.headers, wire.body, NOW)
        prechecked = "prechecked"
    except AuthenticationFailed as refused:
        prechecked = f"precheck refused: {refused.message()}"
    try:
        aksk.verify(
            secret.encode(),
            head,
            signature,
            wire.method,
            wire.raw_path,
            wire.query,
            wire.headers,
            wire.body,
            NOW,
        )
    except AuthenticationFailed as refused:
        return f"{prechecked}; refused: {type(refused).__name__}: {refused.message()}"
    return f"{prechecked}; accepted"


def the_answer(answers: dict[str, str]) -> str:
    """The one answer both implementations gave."""
    assert len(set(answers.values())) == 1, answers
    return next(iter(answers.values()))


# --- Drawing requests and changes ----------------------------------------------------------------


@st.composite
def requests(draw: st.DrawFn) -> tuple[Request, int]:
    """A request and its date's distance from the server's clock, in seconds."""
    offset = draw(
        st.integers(-15 * 60, 15 * 60) if draw(st.integers(0, 4)) else st.integers(-20 * 60, 20 * 60)
    )
    headers = {"Host": HOST, "X-Sdk-Date": datetime.fromtimestamp(NOW + offset, UTC).strftime(DATE_FORMAT)}
    headers.update(draw(HEADERS))
    content_type = draw(CONTENT_TYPES)
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = draw(BODY)
    declared = draw(DECLARED)
    if declared is not None:
        real = hashlib.sha256(body).hexdigest()
        headers["X-Sdk-Content-Sha256"] = {"hash": real, "HASH": real.upper()}.get(declared, declared)
    request = Request(
        secret=draw(st.text(CHARACTER, min_size=1, max_size=80)),
        method=draw(st.sampled_from(METHODS)),
        path=draw(PATH),
        pairs=draw(PAIRS),
        headers=headers,
        body=body,
    )
    return request, offset


def _encoded(text: str, how: str, value: bool) -> str:
    """One of the ways a client may percent-encode a query key or value; each is read back as
    ``text`` by the application (Starlette's parse_qsl: "+" is a space, the bytes are latin-1)."""
    if how == "sdk":
        return quote(text, safe="~")
    if how == "all-reserved":
        return quote(text, safe="")
    if how == "lower-case hex":
        return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(text, safe="~"))
    if how == "every byte":
        return "".join(f"%{byte:02X}" for byte in text.encode())
    if how == "form":
        return quote_plus(text, safe="~")
    # Raw: what need not be encoded in a query is not; "=" left as it is in a value.
    keep = "-._~!$'()*,;:@/?" + ("=" if value else "")
    return "".join(c if c.isascii() and (c.isalnum() or c in keep) else quote(c, safe="") for c in text)


ENCODINGS = ["sdk", "all-reserved", "lower-case hex", "every byte", "form", "raw"]


@st.composite
def query_encodings(draw: st.DrawFn, pairs: list[tuple[str, str]]) -> bytes:
    """The pairs as another client may send them: in any order, each part encoded its own way,
    and an empty value sometimes without its "="."""
    order = draw(st.permutations(range(len(pairs))))
    parts = []
    for index in order:
        key, value = pairs[index]
        encoded_key = _encoded(key, draw(st.sampled_from(ENCODINGS)), value=False)
        if value == "" and encoded_key and draw(st.booleans()):
            parts.append(encoded_key)
            continue
        parts.append(f"{encoded_key}={_encoded(value, draw(st.sampled_from(ENCODINGS)), value=True)}")
    return "&".join(parts).encode()


def expected(request: Request, offset: int, sdk: SdkRequest) -> str:
    """What both checks must answer to the request as the SDK signed it."""
    if abs(offset) > 15 * 60:
        return "refused: 15 minutes"
    declared = str(sdk.header_params.get("X-Sdk-Content-Sha256", "")).strip()
    if request.body and declared and declared != hashlib.sha256(request.body).hexdigest():
        return "refused: X-Sdk-Content-Sha256 is not the SHA-256"
    return "accepted"


def _matches(answer: str, want: str) -> bool:
    if want == "accepted":
        return answer == "prechecked; accepted"
    return "refused" in answer and want.removeprefix("refused: ") in answer


# --- The properties ------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(requests(), st.data())
def test_what_the_sdk_signs_is_accepted_by_both(drawn: tuple[Request, int], data: st.DataObject) -> None:
    request, offset = drawn
    sdk = signed(request)
    assert sdk is not None
    want = expected(request, offset, sdk)
    event(want)
    answer = the_answer(verdicts(request.secret, on_the_wire(sdk)))
    assert _matches(answer, want), (want, answer)
    # The same pairs in another order and encoding are the same request.
    other_query = data.draw(query_encodings(request.pairs), label="query as sent")
    answer = the_answer(verdicts(request.secret, on_the_wire(sdk, other_query)))
    assert _matches(answer, want), (want, answer, other_query)


def canonical_query(pairs: list[tuple[str, str]]) -> bytes:
    """The query the SDK sends for these pairs."""
    query: str = Signer.process_canonical_query_string(SdkRequest(query_params=list(pairs)))
    return query.encode()


CHANGES = ["method", "path", "query", "header", "removed header", "body", "extra header"]


@st.composite
def changes(draw: st.DrawFn, kind: str, request: Request, wire: Wire) -> tuple[Request, Wire]:
    """A change of ``kind`` made to a signed request on its way: the request the client would
    have had to sign to send it (for the oracle), and what the server gets."""
    if kind == "method":
        method = draw(st.sampled_from([m for m in METHODS if m != request.method]))
        return replace(request, method=method), replace(wire, method=method)
    if kind == "path":
        path = draw(
            st.one_of(
                PATH,
                SEGMENT.map(lambda s: request.path + s),
                st.just(
                    request.path[:-1]
                    if request.path.endswith("/") and request.path != "/"
                    else request.path + "/"
                ),
                PERCENT.map(lambda p: request.path + p),
            )
        )
        return replace(request, path=path), replace(wire, raw_path=path.encode())
    if kind == "query":
        pairs = list(request.pairs)
        how = draw(st.sampled_from(["add", "drop", "value", "key", "repeat"] if pairs else ["add"]))
        if how == "add":
            pairs.insert(draw(st.integers(0, len(pairs))), (draw(KEY), draw(VALUE)))
        else:
            index = draw(st.integers(0, len(pairs) - 1))
            key, value = pairs[index]
            if how == "drop":
                del pairs[index]
            elif how == "value":
                pairs[index] = (key, draw(VALUE))
            elif how == "key":
                pairs[index] = (draw(KEY), value)
            else:
                pairs.append((key, value))
        return replace(request, pairs=pairs), replace(wire, query=canonical_query(pairs))
    if kind in ("header", "removed header"):
        name = draw(st.sampled_from(sorted(request.headers)))
        headers = dict(wire.headers)
        if kind == "header":
            # A value the SDK would send as it is, or padded with what both strip.
            value = draw(ASCII_SPACE) + draw(HEADER_VALUE).strip() + draw(ASCII_SPACE)
            headers[name.lower().encode()] = value.encode()
        else:
            value = ""  # to the signer, a header sent without a value
            del headers[name.lower().encode()]
        changed = replace(request, headers={**request.headers, name: value})
        return changed, replace(wire, headers=headers)
    if kind == "body":
        return request, replace(wire, body=draw(BODY.map(lambda b: b if b != request.body else b + b"-")))
    # A header that is not signed: its name carries an "_", or is new.
    name = draw(HEADER_NAME.filter(lambda n: n.lower().encode() not in wire.headers)).lower().encode()
    return request, replace(wire, headers={**wire.headers, name: draw(HEADER_VALUE).strip().encode()})


@pytest.mark.parametrize("kind", CHANGES)
@settings(PROPERTY_SETTINGS, max_examples=max(1, PROPERTY_SETTINGS.max_examples // len(CHANGES)))
@given(drawn=requests(), data=st.data())
def test_what_is_changed_after_signing_is_refused_by_both(
    kind: str, drawn: tuple[Request, int], data: st.DataObject
) -> None:
    request, offset = drawn
    sdk = signed(request)
    assert sdk is not None
    if expected(request, offset, sdk) != "accepted":
        return  # refused already (the first property holds that)
    original = str(sdk.header_params["Authorization"])
    changed, wire = data.draw(changes(kind, request, on_the_wire(sdk)), label="change")
    answer = the_answer(verdicts(request.secret, wire))
    if kind == "body":
        want = "refused"  # whatever the signer would do with a declared hash: see the docstring
    elif kind == "extra header":
        want = "accepted"
    else:
        want = "accepted" if signer_signs_alike(changed, original, wire) else "refused"
    event(f"{kind}: {want}")
    assert _matches(answer, want), (kind, want, answer)
