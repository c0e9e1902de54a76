"""Every error answer, from every layer, is in the TaurusDB format: ``application/json``, an
X-Request-Id, ``{"error_code", "error_msg"}``; and the log lines about errors escape what a
client sent."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from taskcenter.api.logsafe import escape
from taskcenter.api.protocol import MAX_HEAD
from taskcenter.api.request_ids import RequestIds
from taskcenter.ports import Store
from taskcenter.storage.factory import open_store
from taskcenter.wiring import http_app
from tests.api.test_protocol import exchange
from tests.support import ServerThread

REQUEST_ID = re.compile(r"[0-9a-f]{32}")
# What a client can put in a path once decoded: a terminal escape sequence, NUL, a line break.
HOSTILE = "%1b[31m%00%0a%0d"
ESCAPED = r"\x1b[31m\x00\n\r"


class FailingTokens:
    """The real store, except that looking up a token fails as a bug would: every request with
    a token reaches the application's last handler for errors."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get_token(self, *args: object) -> None:
        raise RuntimeError("a bug in get_token")


@pytest.fixture
def failing(tmp_path: Path) -> Iterator[str]:
    async def open_failing() -> Any:
        return FailingTokens(await open_store(f"sqlite:///{tmp_path / 'taskcenter.db'}", tmp_path))

    with ServerThread(http_app(open_failing)) as server:
        yield server.url


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    """An application that fails on /raises and answers nothing on /silent: what is left for the
    outermost layer (RequestIds) to answer."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["path"].startswith("/raises"):
        raise RuntimeError("a bug outside every handler")


@pytest.fixture
def outermost() -> Iterator[str]:
    with ServerThread(RequestIds(bare)) as server:
        yield server.url


def assert_taurusdb_error(status: int, headers: Any, body: bytes, expected: int, case: str) -> None:
    assert status == expected, (case, body)
    assert headers["content-type"] == "application/json", case
    assert REQUEST_ID.fullmatch(headers["x-request-id"]), case
    if body:  # not after HEAD
        answer = orjson.loads(body)
        assert set(answer) == {"error_code", "error_msg"} and answer["error_msg"], case


def test_every_error_answer_is_json_with_a_request_id(failing: str, outermost: str) -> None:
    """Starlette's router (404, 405), the handlers' errors (401, 400, 413), a failure in a
    route and on the hot path (500), the protocol's refusals (400, 431), an upgrade request for
    no route (404), and the outermost layer's 500 for an error no handler took or no answer."""
    token = {"X-Auth-Token": "any"}
    websocket = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    with httpx.Client(base_url=failing, timeout=30) as http, httpx.Client(base_url=outermost) as bare_http:
        answers = {
            "no such route": (404, http.get("/v3/p/nope")),
            "no such route, HEAD": (404, http.head("/nope")),
            "a route without the method": (405, http.delete("/health")),
            "an upgrade to no route": (404, http.get("/v3/chat", headers=websocket)),
            "no credentials": (401, http.get("/v3/p/immediate-jobs")),
            "no credentials, hot path": (401, http.get("/v3/p/jobs", params={"id": "x"})),
            "a body that is not JSON": (400, http.post("/v3/auth/tokens", content=b"{")),
            "a failure in a route": (500, http.get("/v3/p/immediate-jobs", headers=token)),
            "a failure on the hot path": (500, http.get("/v3/p/jobs", params={"id": "x"}, headers=token)),
            "a failure outside every handler": (500, bare_http.get("/raises")),
            "no answer from the application": (500, bare_http.get("/silent")),
        }
    for case, (expected, response) in answers.items():
        assert_taurusdb_error(response.status_code, response.headers, response.content, expected, case)
    too_large = b"POST /internal/v1/jobs HTTP/1.1\r\nhost: t\r\ncontent-length: 2000000\r\n\r\n"
    not_http = b"GET /\xff HTTP/1.1\r\nhost: t\r\n\r\n"
    head_too_long = b"GET /health HTTP/1.1\r\nhost: t\r\nx-junk: " + b"j" * MAX_HEAD + b"\r\n\r\n"
    for case, expected, request in (
        ("a body past the cap", 413, too_large),
        ("not HTTP", 400, not_http),
        ("a head past the cap", 431, head_too_long),
    ):
        [(status, headers, body)] = exchange(failing, request)
        assert_taurusdb_error(status, headers, body, expected, case)


def messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    # Each line is written before the answer it is about.
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_what_a_client_sent_is_logged_escaped(
    failing: str, outermost: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A path holding an escape sequence, NUL and line breaks is logged as backslash escapes, in
    the 401 line, the server failure line and the outermost layer's unhandled-error line: one
    line each, nothing a terminal would act on."""
    caplog.set_level(logging.INFO)
    with httpx.Client(base_url=failing) as http, httpx.Client(base_url=outermost) as bare_http:
        assert http.get(f"/v3/{HOSTILE}/immediate-jobs").status_code == 401
        assert http.get(f"/v3/{HOSTILE}/immediate-jobs", headers={"X-Auth-Token": "x"}).status_code == 500
        assert bare_http.get(f"/raises{HOSTILE}").status_code == 500
    lines = [
        *messages(caplog, "authentication failed"),
        *messages(caplog, "server failure"),
        *messages(caplog, "unhandled error"),
    ]
    assert len(lines) == 3
    for line in lines:
        assert ESCAPED in line, line
        assert not re.search(r"[\x00-\x1f\x7f]", line), line


def test_escaping_leaves_printable_text_as_it_is() -> None:
    assert escape("/v3/p/jobs?id=a-1 b") == "/v3/p/jobs?id=a-1 b"
    assert escape("用户-1") == "用户-1"
    assert escape("a\\x1b\u202e\udcff\u2028\t") == r"a\\x1b\u202e\udcff\u2028\t"
