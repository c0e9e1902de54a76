"""Our verifier accepts exactly what the official SDK's Signer produces, and nothing altered.

Every test runs on both implementations of the check (the C and its Python twin)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from starlette.datastructures import QueryParams

from taskcenter.domain.errors import AuthenticationFailed
from taskcenter.identity import aksk
from taskcenter.identity.sdk_hmac import UNCHECKED, VERIFIED, Check
from tests.identity.sdk_hmac_implementations import sdk_hmac_check
from tests.support import sign

pytestmark = pytest.mark.usefixtures(sdk_hmac_check.__name__)

AK, SK = "HPUAXXXXXXXXXXXXXXXX", "secret-key-0123456789"


def verify(method: str, url: str, headers: dict[str, str], body: bytes = b"", sk: str = SK) -> None:
    path, _, query = url.removeprefix("http://127.0.0.1:8080").partition("?")
    # As the ASGI server hands them over: lower-case names, values as the bytes sent (sign()
    # returns what the SDK puts on the wire: each value's UTF-8 bytes, as latin-1 text).
    lowered = {k.lower().encode(): v.encode("latin-1") for k, v in headers.items()}
    head = aksk.parse_authorization(lowered[b"authorization"])
    _, signature = aksk.split_authorization(lowered[b"authorization"])
    aksk.verify(
        sk.encode(),
        head,
        signature,
        method,
        path.encode(),
        query.encode("latin-1"),
        lowered,
        body,
        time.time(),
    )


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "http://127.0.0.1:8080/v3/p1/jobs?id=a9767ede-fe0f-4888-9003-e843a4c90514", b""),
        ("GET", "http://127.0.0.1:8080/v3/p1/immediate-jobs?status=Running&limit=10&offset=1", b""),
        ("GET", "http://127.0.0.1:8080/v3/p1/immediate-jobs?start_time=2026-01-01T00%3A00%3A00%2B0000", b""),
        ("GET", "http://127.0.0.1:8080/v3/p1/immediate-jobs?job_name=a%20b&job_name=a", b""),
        ("GET", "http://127.0.0.1:8080/v3/p1/immediate-jobs?job_name=b&job_name=a&limit=10&x_y.z~=1", b""),
        ("GET", "http://127.0.0.1:8080/v3/p~1.x_y-z/jobs?id=a9767ede-fe0f-4888-9003-e843a4c90514", b""),
        ("GET", "http://127.0.0.1:8080/v3/p1/jobs?id=a=b", b""),
        ("DELETE", "http://127.0.0.1:8080/v3/p1/jobs/a9767ede-fe0f-4888-9003-e843a4c90514", b""),
        ("POST", "http://127.0.0.1:8080/internal/v1/jobs", b'{"name": "X", "project_id": "p"}'),
        ("PATCH", "http://127.0.0.1:8080/internal/v1/jobs/x", '{"fail_reason": "磁盘已满"}'.encode()),
    ],
)
def test_sdk_signed_requests_verify(method: str, url: str, body: bytes) -> None:
    headers = sign(AK, SK, method, url, body, {"X-Language": "en-us", "X-Project-Id": "p1"})
    verify(method, url, headers, body)


def test_signed_non_ascii_header_values_verify() -> None:
    """The SDK signs every header it sends, as UTF-8 bytes."""
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    verify("GET", url, sign(AK, SK, "GET", url, headers={"X-Client-Name": "任务中心 poller"}))


@pytest.mark.parametrize("secret", ["k", "s" * 64, "long-" * 40, "密钥-secret"])
def test_secrets_of_any_length_verify(secret: str) -> None:
    """HMAC hashes a key longer than SHA-256's 64-byte block first; shorter ones are padded."""
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    verify("GET", url, sign(AK, secret, "GET", url), sk=secret)
    with pytest.raises(AuthenticationFailed, match="signature"):
        verify("GET", url, sign(AK, secret, "GET", url), sk=secret + "x")


def test_signed_header_values_are_stripped_as_the_sdk_strips_them() -> None:
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    headers = sign(AK, SK, "GET", url, headers={"X-Client-Name": "  poller\t "})
    verify("GET", url, headers)
    with pytest.raises(AuthenticationFailed, match="signature"):
        verify("GET", url, {**headers, "X-Client-Name": "poller2"})


def test_wrong_secret_fails() -> None:
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    with pytest.raises(AuthenticationFailed, match="signature"):
        verify("GET", url, sign(AK, SK, "GET", url), sk="other")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m, u, h, b: ("DELETE", u, h, b),
        lambda m, u, h, b: (m, u.replace("id=x", "id=y"), h, b),
        lambda m, u, h, b: (m, u.replace("/p1/", "/p2/"), h, b),
        lambda m, u, h, b: (m, u, {**h, "X-Project-Id": "p2"}, b),
        lambda m, u, h, b: (m, u, h, b + b" "),
    ],
)
def test_any_change_breaks_the_signature(tamper) -> None:  # type: ignore[no-untyped-def]
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    body = b'{"a": 1}'
    headers = sign(AK, SK, "POST", url, body, {"X-Project-Id": "p1"})
    method, url2, headers2, body2 = tamper("POST", url, headers, body)
    with pytest.raises(AuthenticationFailed, match="signature"):
        verify(method, url2, headers2, body2)


@pytest.mark.parametrize("skew", [timedelta(minutes=16), -timedelta(minutes=16)])
def test_stale_or_future_dates_are_refused(skew: timedelta) -> None:
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    date = (datetime.now(UTC) + skew).strftime("%Y%m%dT%H%M%SZ")
    headers = sign(AK, SK, "GET", url, headers={"X-Sdk-Date": date})
    with pytest.raises(AuthenticationFailed, match="15 minutes"):
        verify("GET", url, headers)


@pytest.mark.parametrize(
    "date", ["2026-11-27T10:00:00Z", "20261327T100000Z", "20260230T100000Z", "20261127T1000Z"]
)
def test_malformed_dates_say_so(date: str) -> None:
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    headers = {**sign(AK, SK, "GET", url), "X-Sdk-Date": date}  # the SDK refuses to sign such dates
    with pytest.raises(AuthenticationFailed, match="YYYYMMDDTHHMMSSZ"):
        verify("GET", url, headers)


def test_within_fifteen_minutes_is_accepted() -> None:
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    date = (datetime.now(UTC) - timedelta(minutes=14)).strftime("%Y%m%dT%H%M%SZ")
    verify("GET", url, sign(AK, SK, "GET", url, headers={"X-Sdk-Date": date}))


@pytest.mark.parametrize(
    "value",
    ["Basic abc", "SDK-HMAC-SHA256 Access=AK", "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=zz"],
)
def test_malformed_authorization_says_so(value: str) -> None:
    with pytest.raises(AuthenticationFailed, match="Authorization header"):
        aksk.parse_authorization(value.encode())


def test_canonical_uri_matches_the_sdk() -> None:
    assert aksk.canonical_uri(b"/v3/p1/jobs") == "/v3/p1/jobs/"
    assert aksk.canonical_uri(b"/v3/a%20b/jobs/") == "/v3/a%20b/jobs/"
    assert aksk.canonical_uri(b"/v3/a%2541b/jobs") == "/v3/a%2541b/jobs/"  # decoded once, not twice


def test_the_signature_itself_must_be_64_hex_digits_in_either_case() -> None:
    """The authenticator reuses a client's parsed head; what follows Signature= is checked anew."""
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    headers = sign(AK, SK, "GET", url)
    head, _, signature = headers["Authorization"].rpartition("Signature=")
    verify("GET", url, {**headers, "Authorization": head + "Signature=" + signature.upper()})
    for bad in ("zz" * 32, signature[:-1], signature + "a", "", "xyz", signature[:-2] + " a"):
        with pytest.raises(AuthenticationFailed, match="Authorization header"):
            verify("GET", url, {**headers, "Authorization": head + "Signature=" + bad})


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v3/p1/jobs", "id=a9767ede-fe0f-4888-9003-e843a4c90514"),
        ("/v3/p1/jobs/", "id=x"),
        ("/v3/p1/jobs", ""),
        ("/v3/p1/jobs", "flag"),
        ("/v3/p1/jobs", "id=a=b"),
        ("/v3/p1/jobs", "b=2&a=1"),
        ("/v3/p1/jobs", "id=a%20b"),
        ("/v3/a b/jobs", "id=x"),
        ("/v3/任务/jobs", "id=x"),
    ],
)
def test_plain_and_encoded_requests_sign_alike(path: str, query: str) -> None:
    """The C check canonicalises a plain path and query itself and leaves the others to
    quote(): either way, the SDK's signature of the request verifies, and a wrong one does not."""
    signed_query = query if "=" in query or not query else query + "="  # what the SDK sends for "flag"
    url = f"http://127.0.0.1:8080{quote(path, safe='/~')}" + (f"?{signed_query}" if query else "")
    headers = sign(AK, SK, "GET", url)
    lowered = {k.lower().encode(): v.encode("latin-1") for k, v in headers.items()}
    head = aksk.parse_authorization(lowered[b"authorization"])
    _, signature = aksk.split_authorization(lowered[b"authorization"])
    now = time.time()
    raw_path = quote(path, safe="/~").encode()  # as the SDK sends it
    aksk.verify(SK.encode(), head, signature, "GET", raw_path, query.encode(), lowered, b"", now)
    with pytest.raises(AuthenticationFailed, match="signature"):
        aksk.verify(b"other", head, signature, "GET", raw_path, query.encode(), lowered, b"", now)


def test_a_precheck_checks_the_form_and_date_and_never_passes_for_verified(sdk_hmac_check: Check) -> None:
    """What the authenticator checks before it looks the access key up; the C check without a
    secret says so, and verify() refuses that outcome rather than take it for a signature."""
    url = "http://127.0.0.1:8080/v3/p1/jobs?id=x"
    lowered = {k.lower().encode(): v.encode() for k, v in sign(AK, SK, "GET", url).items()}
    head = aksk.parse_authorization(lowered[b"authorization"])
    now = time.time()
    aksk.precheck(head, b"0" * 64, lowered, b"", now)
    with pytest.raises(AuthenticationFailed, match="15 minutes"):
        aksk.precheck(head, b"0" * 64, lowered, b"", now + 901)
    unsigned = {**lowered, b"x-sdk-content-sha256": b"UNSIGNED-PAYLOAD"}
    with pytest.raises(AuthenticationFailed, match="X-Sdk-Content-Sha256"):
        aksk.precheck(head, b"0" * 64, unsigned, b"", now)
    with pytest.raises(AuthenticationFailed, match="Authorization header"):
        aksk.precheck(head, b"0" * 63, lowered, b"", now)
    args = (
        head.signed_headers,
        head.signed_list,
        b"0" * 64,
        "GET",
        b"/v3/p1/jobs",
        b"id=x",
        lowered,
        b"",
        now,
    )
    assert sdk_hmac_check(None, *args, False) == UNCHECKED != VERIFIED
    with pytest.raises(AuthenticationFailed, match="signature"):
        aksk.verify(None, head, b"0" * 64, "GET", b"/v3/p1/jobs", b"id=x", lowered, b"", now)  # type: ignore[arg-type]


@pytest.mark.parametrize("declare", [True, False])
def test_the_body_is_the_one_signed_whatever_the_declared_hash(declare: bool) -> None:
    """The SDK signs a declared X-Sdk-Content-Sha256 in place of the body's hash: a declared
    value must be the body's SHA-256, checked before the key is even looked up."""
    url = "http://127.0.0.1:8080/internal/v1/jobs"
    body, other = b'{"name": "A"}', b'{"name": "B"}'
    extra = {"X-Sdk-Content-Sha256": hashlib.sha256(body).hexdigest()} if declare else {}
    headers = sign(AK, SK, "POST", url, body, extra)
    verify("POST", url, headers, body)
    with pytest.raises(AuthenticationFailed, match="X-Sdk-Content-Sha256" if declare else "signature"):
        verify("POST", url, headers, other)
    lowered = {k.lower().encode(): v.encode() for k, v in headers.items()}
    head = aksk.parse_authorization(lowered[b"authorization"])
    _, signature = aksk.split_authorization(lowered[b"authorization"])
    aksk.precheck(head, signature, lowered, body, time.time())
    if declare:
        with pytest.raises(AuthenticationFailed, match="X-Sdk-Content-Sha256 is not the SHA-256"):
            aksk.precheck(head, signature, lowered, other, time.time())


@pytest.mark.parametrize(
    "declared", ["UNSIGNED-PAYLOAD", "0" * 64, "E3B0C442" * 8, hashlib.sha256(b"{}").hexdigest().upper()]
)
def test_a_declared_hash_that_is_not_the_bodys_is_refused_even_when_signed(declared: str) -> None:
    url = "http://127.0.0.1:8080/internal/v1/jobs"
    headers = sign(AK, SK, "POST", url, b"{}", {"X-Sdk-Content-Sha256": declared})
    with pytest.raises(AuthenticationFailed, match="X-Sdk-Content-Sha256 is not the SHA-256"):
        verify("POST", url, headers, b"{}")
    # Blank is no declaration (the SDK hashes the body then), and without a body it is unused.
    verify("POST", url, sign(AK, SK, "POST", url, b"{}", {"X-Sdk-Content-Sha256": " "}), b"{}")
    verify("GET", url, sign(AK, SK, "GET", url, b"", {"X-Sdk-Content-Sha256": declared}))


@pytest.mark.parametrize(
    "instance_id", ["a%41b", "a%2Fb", "a/b", "100%", "a b", "a+b", "任务-1", "~._-", "%", "%%41"]
)
def test_the_sdk_signs_the_path_it_sends_and_that_is_what_is_verified(instance_id: str) -> None:
    """The official SDK puts each path parameter in the path percent-encoded (quote(safe="")),
    and its Signer canonicalises that path decoded once: the server must start from the path as
    sent (ASGI's raw_path), not from the path the server already decoded."""
    path = f"/v3/p1/instances/{quote(instance_id, safe='')}"
    url = f"http://127.0.0.1:8080{path}"
    headers = sign(AK, SK, "GET", url)
    verify("GET", url, headers)
    with pytest.raises(AuthenticationFailed, match="signature"):
        verify("GET", url.replace("/p1/", "/p2/"), headers)


def test_the_query_is_verified_as_the_application_reads_it() -> None:
    """The application reads a query as Starlette's QueryParams does: "+" is a space, and the
    bytes are latin-1. A "+" put for a signed "%2B" is refused (it was verified as "+" while the
    application read a space); a space sent as "+" is the signed space; raw UTF-8 is not the
    signed text (the SDK sends neither)."""
    base = "http://127.0.0.1:8080/v3/p1/immediate-jobs?job_name="
    assert QueryParams(b"job_name=a+b")["job_name"] == "a b" != QueryParams(b"job_name=a%2Bb")["job_name"]
    headers = sign(AK, SK, "GET", base + "a%2Bb")
    verify("GET", base + "a%2Bb", headers)
    with pytest.raises(AuthenticationFailed, match="signature"):
        verify("GET", base + "a+b", headers)
    verify("GET", base + "a+b", sign(AK, SK, "GET", base + "a%20b"))
    raw = "任务".encode().decode("latin-1")  # verify() sends the URL's characters as latin-1 bytes
    assert QueryParams(f"job_name={raw}".encode("latin-1"))["job_name"] != "任务"
    with pytest.raises(AuthenticationFailed, match="signature"):
        verify("GET", base + raw, sign(AK, SK, "GET", base + quote("任务")))
