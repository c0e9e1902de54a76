"""The C check and its Python twin: the same outcome numbers, the same answer to any arguments,
and the twin chosen where the C is not built or TASKCENTER_PURE_PYTHON=1 asks for it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from taskcenter.identity import pure_sdk_hmac, sdk_hmac
from tests.identity.properties import PROPERTY_SETTINGS
from tests.identity.sdk_hmac_implementations import check_of

OUTCOMES = [
    "VERIFIED",
    "MALFORMED_SIGNATURE",
    "NO_DATE",
    "MALFORMED_DATE",
    "DATE_SKEW",
    "UNSIGNED_CONTENT_HASH",
    "MISMATCH",
    "NOT_PLAIN",
    "UNCHECKED",
    "BODY_HASH_MISMATCH",
]
ROOT = Path(__file__).resolve().parents[2]


def test_both_name_the_same_outcomes_with_the_same_numbers() -> None:
    try:
        c = sdk_hmac.load("c")
    except ImportError:
        pytest.skip("the C extension _sdk_hmac is not built here")
    c_outcomes = {name: value for name, value in vars(c).items() if isinstance(value, int)}
    assert c_outcomes == {name: getattr(pure_sdk_hmac, name) for name in OUTCOMES}
    assert len(set(c_outcomes.values())) == len(OUTCOMES)
    assert {name: getattr(sdk_hmac, name) for name in OUTCOMES} == c_outcomes


SIGNED = """
import time
from types import SimpleNamespace
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from taskcenter.identity import aksk, pure_sdk_hmac, sdk_hmac
request = SdkRequest("GET", "http", "127.0.0.1:8080", "/v3/p1/jobs", query_params=[("id", "x")])
request.header_params = {}
Signer(SimpleNamespace(ak="AK", sk="SK")).sign(request)
headers = {k.lower().encode(): str(v).encode() for k, v in request.header_params.items()}
head = aksk.parse_authorization(headers[b"authorization"])
_, signature = aksk.split_authorization(headers[b"authorization"])
aksk.verify(b"SK", head, signature, "GET", b"/v3/p1/jobs", b"id=x", headers, b"", time.time())
print(sdk_hmac.CHOSEN, aksk.check is pure_sdk_hmac.check)
"""
WITHOUT_THE_C = "import sys\nsys.modules['taskcenter.identity._sdk_hmac'] = None  # as if never built\n"


def _chosen(code: str, **environment: str) -> str:
    """What a fresh interpreter chose, and whether aksk verifies with the Python twin."""
    env = {k: v for k, v in os.environ.items() if k != sdk_hmac.PURE_PYTHON_VARIABLE} | environment
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_python_twin_is_chosen_where_the_c_is_missing_or_when_asked() -> None:
    """In each case a request the SDK signed verifies."""
    assert _chosen(WITHOUT_THE_C + SIGNED) == "python True"
    assert _chosen(SIGNED, TASKCENTER_PURE_PYTHON="1") == "python True"
    try:
        sdk_hmac.load("c")
    except ImportError:
        return
    assert _chosen(SIGNED, TASKCENTER_PURE_PYTHON="0") == "c False"  # only "1" asks for Python


# --- Any arguments, the same answer --------------------------------------------------------------

NOW = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC).timestamp()
DATE = b"20261127T100000Z"
BODY = st.one_of(st.just(b""), st.binary(min_size=1, max_size=40))
# Bytes that make a path or query plain (RFC 3986's unreserved, "/" and "="), and some that do not.
URL_BYTES = st.binary(max_size=12) | st.text(st.sampled_from("aZ09-._~/=&%+ é"), max_size=12).map(str.encode)
NAMES = st.sampled_from(
    [b"x-sdk-date", b"x-sdk-content-sha256", b"host", b"x-a", b"", b"X-SDK-DATE", b"x-sdk-date "]
)
ODD_OBJECTS = st.sampled_from([None, "x-sdk-date", bytearray(b"x-sdk-date"), 0, memoryview(b"x-sdk-date")])
DATES = st.one_of(
    st.just(DATE),
    st.sampled_from([b"20261127T101500Z", b"20261127T101501Z", b"20261127T094500Z", b"20261127T094459Z"]),
    st.sampled_from(
        [b"", b"20260230T100000Z", b"00001127T100000Z", b"20261127T240000Z", b"20261127T100060Z"]
    ),
    st.sampled_from([b"2026-11-27T10:00Z", b"20261127t100000z", b" 20261127T10000Z", b"20261127T10000\xd9Z"]),
    st.sampled_from([b"99991231T235959Z", b"00010101T000000Z", b"20240229T100000Z", b"21000229T100000Z"]),
    st.binary(min_size=16, max_size=16),
)
HEX = "0123456789abcdefABCDEF"
WELL_FORMED_SIGNATURES = st.text(st.sampled_from(HEX), min_size=64, max_size=64).map(str.encode)
SIGNATURES = st.one_of(
    WELL_FORMED_SIGNATURES,
    st.text(st.sampled_from(HEX + "gG x\x00"), min_size=62, max_size=66).map(str.encode),
    st.binary(max_size=70),
)
NOWS = st.one_of(
    st.floats(NOW - 1000, NOW + 1000), st.integers(int(NOW) - 1000, int(NOW) + 1000), st.just(NOW)
)
ODD_NOWS = st.sampled_from([float("nan"), float("inf"), -float("inf"), True, 10**400, "1", None, 1e300])
CANONICALS = st.one_of(st.booleans(), st.sampled_from([0, 1, "", "x", [], [0], None]))
METHODS = st.one_of(st.sampled_from(["GET", "post", "Delete", "\ud800", "ÿ", ""]), st.text(max_size=6))


@st.composite
def arguments(draw: st.DrawFn) -> tuple[Any, ...]:
    """check()'s arguments: mostly well typed and near a valid request, now and then anything."""
    odd = draw(st.integers(0, 9)) == 0

    def maybe_odd(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return values | ODD_OBJECTS if odd else values

    body = draw(BODY)
    real_hash = hashlib.sha256(body).hexdigest().encode()
    names = draw(st.lists(maybe_odd(NAMES), max_size=4))
    if draw(st.integers(0, 9)):  # mostly a signed date, the first gate
        names.insert(draw(st.integers(0, len(names))), b"x-sdk-date")
    headers: dict[Any, Any] = {}
    if draw(st.integers(0, 9)):
        headers[b"x-sdk-date"] = draw(maybe_odd(DATES) if draw(st.integers(0, 3)) == 0 else st.just(DATE))
    declared = draw(
        maybe_odd(
            st.sampled_from(
                [None, real_hash, real_hash.upper(), b" ", b"\t" + real_hash + b" ", b"UNSIGNED-PAYLOAD"]
            )
            | st.binary(max_size=70)
        )
    )
    if declared is not None and draw(st.booleans()):
        headers[b"x-sdk-content-sha256"] = declared
        if draw(st.integers(0, 4)):
            names.append(b"x-sdk-content-sha256")
    for name in names:
        if isinstance(name, bytes | str | int | None) and name not in headers and draw(st.booleans()):
            headers[name] = draw(
                maybe_odd(st.binary(max_size=10) | st.sampled_from([b" a ", b"\x0b\x0c", b"\x1c"]))
            )
    secret = draw(st.none() | st.binary(max_size=80) | st.sampled_from([b"", b"k" * 65]))
    signed_list = draw(
        st.sampled_from([b";".join(n for n in names if isinstance(n, bytes))]) | st.binary(max_size=8)
    )
    return (
        draw(st.sampled_from([secret, "k", bytearray(b"k")])) if odd else secret,
        draw(st.sampled_from([tuple(names), list(names)])) if odd else tuple(names),
        signed_list,
        draw(SIGNATURES) if draw(st.integers(0, 4)) == 0 else draw(WELL_FORMED_SIGNATURES),
        draw(METHODS),
        draw(URL_BYTES),
        draw(URL_BYTES),
        headers,
        body,
        draw(NOWS | ODD_NOWS) if odd else draw(NOWS),
        draw(CANONICALS),
    )


def _answer(check: Any, args: tuple[Any, ...]) -> object:
    try:
        return check(*args)
    except Exception as error:  # the same exception, with the same words
        return type(error), str(error)


@PROPERTY_SETTINGS
@given(arguments())
def test_the_twins_answer_any_arguments_alike(args: tuple[Any, ...]) -> None:
    c, python = check_of("c"), check_of("python")
    answer = _answer(c, args)
    assert answer == _answer(python, args)
    event(OUTCOMES[answer] if isinstance(answer, int) else f"raised {answer[0].__name__}")  # type: ignore[index]
