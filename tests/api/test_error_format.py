"""The log lines about errors escape what a client sent."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from taskcenter.api.app import create_app
from taskcenter.api.logsafe import escape
from taskcenter.api.middleware import RequestContext
from taskcenter.storage import Store, open_store
from tests.support import ServerThread

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

    with ServerThread(create_app(open_failing)) as server:
        yield server.url


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    """An application that fails on /raises: what is left for the outermost layer
    (RequestContext) to answer."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["path"].startswith("/raises"):
        raise RuntimeError("a bug outside every handler")


@pytest.fixture
def outermost() -> Iterator[str]:
    with ServerThread(RequestContext(bare)) as server:
        yield server.url


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
