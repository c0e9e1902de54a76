"""The HTTP/1.1 protocol uvicorn serves with: its own, with two changes.

One write per response. uvicorn's httptools protocol writes a response's head when the
application starts the response and its body when the application sends it: two send() system
calls for every answer, and on a poll the second one, not Python, was the largest single cost on
the event loop's thread (py-spy). Measured under wrk (BENCHMARKS.md), one write per response
served 9-14% more requests a second, /health and polls alike. uvicorn has no setting for this,
so the head is held here, in the transport each request's cycle writes to, until its body comes.

A request that is not valid HTTP/1.1 (which never reaches the application) is answered in the
TaurusDB error format, with a request id, like every other error; uvicorn answers it in plain
text. And a request's head (its request line and headers) is capped at MAX_HEAD bytes: httptools
buffers a head however long it is, so without a cap one client could hold any amount of memory
with a single endless header (uvicorn caps heads only with h11).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from taskcenter.api.middleware import request_ids
from taskcenter.api.responses import error_body
from taskcenter.domain.errors import HeadTooLarge, InvalidParameter, TaskcenterError

_ids = request_ids()
MAX_HEAD = 64 * 1024
# After refusing a request, how long what the client still sends is read and dropped before the
# connection closes (see HttpProtocol._reject).
LINGER_SECONDS = 2.0


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
    """uvicorn's httptools protocol, each request's response written through a HeadWithBody,
    and heads capped at MAX_HEAD bytes."""

    # Bytes received since the last message or chunk ended, less the body bytes among them: a
    # request line and headers, a chunk's size line, trailers. Exact up to the bytes of one read
    # of the socket (a read that ends a message and begins the next is counted for neither), so
    # a head is refused somewhere between MAX_HEAD and MAX_HEAD plus one read.
    _head_bytes = 0
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # dropped until the connection closes (see _reject)
        self._head_bytes = max(self._head_bytes, 0) + len(data)
        super().data_received(data)
        # Checked once the parser had the data: a read that completes a head (with some of its
        # body, say) is never refused for its length.
        if self._head_bytes > MAX_HEAD and not self._refused and not self.transport.is_closing():
            self._reject(HeadTooLarge(f"The request line and headers exceed {MAX_HEAD} bytes."))

    def on_body(self, body: bytes) -> None:
        self._head_bytes -= len(body)
        super().on_body(body)

    def on_chunk_complete(self) -> None:
        # httptools passes a chunked body's trailers on before this, the last chunk's.
        self._head_bytes = 0

    def on_message_complete(self) -> None:
        self._head_bytes = 0
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        self._reject(InvalidParameter("The request is not valid HTTP/1.1.", "请求不是合法的 HTTP/1.1。"))

    def _reject(self, error: TaskcenterError) -> None:
        """Answers a request the application never saw, and closes the connection."""
        if self._refused:
            return
        self._refused = True
        body = error_body(error)
        head = [STATUS_LINE[error.http_status]]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body))
        head.append(b"x-request-id: %032x\r\nconnection: close\r\n\r\n" % next(_ids))
        # A request still being answered (pipelined before this one) is cut off as if its client
        # had gone, as uvicorn's connection_lost does: nothing may follow this answer.
        self.pipeline.clear()
        cycle = self.cycle
        if cycle is not None:
            if not cycle.response_complete:
                cycle.disconnected = True
            cycle.waiting_for_100_continue = False
            cycle.message_event.set()
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            # Closing a socket with unread data makes the kernel reset the connection, and the
            # client could lose this answer with it (a client sending a long head is still
            # sending): so the answer ends the stream, what follows is dropped for a moment,
            # and then it closes (nginx's "lingering close").
            self.transport.write_eof()
            self.flow.resume_reading()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        # A HEAD response has no body write for its head to wait for; an upgrade starts no cycle.
        if cycle is not None and cycle is not previous and cycle.scope["method"] != "HEAD":
            cycle.transport = cast(asyncio.Transport, HeadWithBody(cycle.transport))
