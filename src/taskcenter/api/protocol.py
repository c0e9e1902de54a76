"""The HTTP/1.1 protocol uvicorn serves with: its own, with two changes.

One write per response. uvicorn's httptools protocol writes a response's head when the
application starts the response and its body when the application sends it: two send() system
calls for every answer, and on a poll the second one, not Python, was the largest single cost on
the event loop's thread (py-spy). Measured under wrk (BENCHMARKS.md), one write per response
served 9-14% more requests a second, /health and polls alike. uvicorn has no setting for this,
so the head is held here, in the transport each request's cycle writes to, until its body comes.

A request that is not valid HTTP/1.1 (which never reaches the application) is answered in the
TaurusDB error format, with a request id, like every other error; uvicorn answers it in plain
text.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from taskcenter.api.middleware import request_ids
from taskcenter.api.responses import error_body
from taskcenter.domain.errors import InvalidParameter

_ids = request_ids()


class HeadWithBody:
    """The transport as one request's response sees it: a head that announces a body's length
    waits for the body and leaves with it.

    Only such a head waits: the body of a Content-Length response always follows in a write (an
    empty one included), while a chunked or bodiless response's next write may be far off. The
    interim "100 Continue" passes straight through. Closing sends a waiting head first, as
    uvicorn would have.
    """

    __slots__ = ("_awaiting_head", "_head", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None
        self._awaiting_head = True

    def write(self, data: bytes) -> None:
        if self._head is not None:
            data, self._head = self._head + data, None
        elif self._awaiting_head and not data.startswith(b"HTTP/1.1 100 "):
            self._awaiting_head = False
            if b"\r\ncontent-length: " in data:  # uvicorn writes header names in lower case
                self._head = data
                return
        self._transport.write(data)

    def close(self) -> None:
        if self._head is not None:
            self._transport.write(self._head)
            self._head = None
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, each request's response written through a HeadWithBody."""

    def send_400_response(self, msg: str) -> None:
        error = InvalidParameter("The request is not valid HTTP/1.1.", "请求不是合法的 HTTP/1.1。")
        body = error_body(error)
        head = [STATUS_LINE[error.http_status]]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body))
        head.append(b"x-request-id: %032x\r\nconnection: close\r\n\r\n" % next(_ids))
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        # A HEAD response has no body write for its head to wait for; an upgrade starts no cycle.
        if cycle is not None and cycle is not previous and cycle.scope["method"] != "HEAD":
            cycle.transport = cast(asyncio.Transport, HeadWithBody(cycle.transport))
