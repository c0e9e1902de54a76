"""The HTTP/1.1 protocol uvicorn serves with: its own, with three changes.

One write per response. uvicorn's httptools protocol writes a response's head when the
application starts the response and its body when the application sends it: two send() system
calls for every answer, and on a poll the second one, not Python, was the largest single cost on
the event loop's thread (py-spy). Measured under wrk (bench/NOTES.md), one write per response
served 9-14% more requests a second, /health and polls alike. uvicorn has no setting for this,
so the head is held here, in the transport each request's cycle writes to, until its body comes.

Every answer in the TaurusDB error format. A request that is not valid HTTP/1.1 (which never
reaches the application) is answered in that format, with a request id, like every other error;
uvicorn answers it in plain text. A request asking to switch protocols (``Upgrade: websocket``,
``h2c``) is answered as the HTTP/1.1 request it also is, as RFC 9110 lets a server do: the
service has no WebSocket routes, and uvicorn would otherwise answer an empty plain-text 403.

A request's head (its request line and headers) is capped at MAX_HEAD bytes: httptools buffers
a head however long it is, so without a cap one client could hold any amount of memory with a
single endless header (uvicorn caps heads only with h11). The cap is exact whatever the reads
the bytes arrive in: the parser is fed each head up to its blank line, each body up to its end,
so every message's bytes are counted from where it begins (see data_received).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from taskcenter.api.logsafe import escape
from taskcenter.api.request_ids import request_ids
from taskcenter.api.responses import error_body
from taskcenter.domain.errors import HeadTooLarge, InvalidParameter, TaskcenterError

log = logging.getLogger("taskcenter.api")
_ids = request_ids()
MAX_HEAD = 64 * 1024
# After refusing a request, how long what the client still sends is read and dropped before the
# connection closes (see HttpProtocol._reject).
LINGER_SECONDS = 2.0
_BLANK_LINE = b"\r\n\r\n"  # ends a head: llhttp, as uvicorn runs it, accepts no bare LF
_NOT_BLANK = re.compile(rb"[^\r\n]")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_UNKNOWN = -1  # a body's length not yet read from its headers


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
    upgrades answered as HTTP/1.1, and heads capped at MAX_HEAD bytes."""

    _refused = False  # a refusal was written: what still comes is dropped (see _reject)
    _ended = False  # the last request closes the connection: what follows it is not read
    # Where the parser is, as the cap needs it. Outside a body: in a head, or between messages.
    _in_body = False
    _head_ended = False  # set by the parser's callback: the head just fed ended
    _blank = True  # between messages: nothing but blank lines came since the last one
    # Bytes of the current head so far (blank lines before it included); in a chunked body, of
    # the current size line, or of the last chunk's size line and the trailers after it.
    _head_bytes = 0
    _tail = b""  # the last bytes of the head so far: its blank line may begin in an earlier read
    # A body of known length: its bytes still to come (_UNKNOWN until read from the headers);
    # None for a chunked body.
    _body_left: int | None = _UNKNOWN
    _chunk_left = 0  # the current chunk's data and closing CRLF: bytes still to come
    _size_line = b""  # the current chunk's size line so far, when it began in an earlier read
    _in_trailers = False  # after a chunked body's last chunk
    # An upgrade request with a body: the parser skips the body of any upgrade request (it takes
    # what follows for the new protocol's), so this one's body is parsed as a message of its own.
    _upgrade_body: bytes | None = None
    _continuing = False  # that message's stand-in head is being fed: it is not a new request

    def _should_upgrade(self) -> bool:
        return False  # every request is answered as HTTP/1.1 (whatever uvicorn's ws setting)

    def data_received(self, data: bytes) -> None:
        if self._refused or self._ended:
            return  # dropped until the connection closes (see _reject, on_message_complete)
        self._unset_keepalive_if_required()
        # The parser is fed a read in slices that end where a head, a body, a chunk's size line
        # or the trailers end, so that each is counted from its first byte however the bytes
        # came in reads, a read that ends one message and begins the next included.
        if (
            not (self._in_body or self._head_bytes)
            and 0 <= data.find(_BLANK_LINE, 0, MAX_HEAD) == len(data) - 4
            and data[0] not in b"\r\n"  # an int: `bytes in bytes` raises and clears a TypeError
        ):
            # The usual read, one whole head and nothing after it (a poll), in one piece: the
            # general case below costs it 3,700 more instructions (callgrind), 1.5% of a poll.
            self._blank = self._head_ended = False
            self._feed(data, 0, len(data))
            if not (self._head_ended or self._refused):  # not expected: the parser ends a head there
                self._head_bytes, self._tail = len(data), data[-3:]
            return
        start, end = 0, len(data)
        while start < end and not (self._refused or self._ended):
            if self._in_body:
                start = self._feed_body(data, start)
            elif self._blank and data[start] in b"\r\n":
                start = self._skip_blank_lines(data, start)
            else:
                self._blank = False
                start = self._feed_to_blank_line(data, start, trailers=False)

    def _skip_blank_lines(self, data: bytes, start: int) -> int:
        """Feeds the parser the blank lines before a request, which it skips: they do not end
        a head, but count as its bytes (as many as a head may have)."""
        limit = min(len(data), start + MAX_HEAD - self._head_bytes)
        head = _NOT_BLANK.search(data, start, limit)
        stop = limit if head is None else head.start()
        self._head_bytes += stop - start
        after = self._feed(data, start, stop)
        if head is None and limit < len(data):
            self._reject(_too_long("The request line and headers", "请求行和请求头"))
        return after

    def _feed_body(self, data: bytes, start: int) -> int:
        """Feeds the parser the current message's body from ``start``, up to its end at most."""
        if self._body_left == _UNKNOWN:
            self._body_left = self._declared_length()
        if self._body_left is None:
            if self._in_trailers:
                return self._feed_to_blank_line(data, start, trailers=True)
            return self._feed_chunks(data, start)
        stop = min(len(data), start + self._body_left)
        if stop == start:  # the parser still in a body the headers say has ended: not expected
            stop = len(data)
        self._body_left = max(self._body_left - (stop - start), 0)
        return self._feed(data, start, stop)

    def _feed_to_blank_line(self, data: bytes, start: int, *, trailers: bool) -> int:
        """Feeds the parser a head from ``start`` up to its blank line at most (or a chunked
        body's trailers, with the last chunk's size line), and refuses one longer than MAX_HEAD
        bytes; answers where the next bytes begin."""
        limit = min(len(data), start + MAX_HEAD - self._head_bytes)
        if self._tail:  # the blank line may begin in the bytes of an earlier read
            end = self._blank_line_end(data, start, limit)
        else:
            end = data.find(_BLANK_LINE, start, limit)
            end = end if end < 0 else end + 4
        stop = limit if end < 0 else end
        self._head_ended = False
        after = self._feed(data, start, stop)
        if self._refused:
            return after
        if end >= 0 and (not self._in_body if trailers else self._head_ended):
            self._head_bytes, self._tail = 0, b""
            return after
        self._head_bytes += stop - start
        self._tail = (self._tail + data[max(start, stop - 3) : stop])[-3:]
        if end < 0 and limit < len(data):
            if trailers:
                self._reject(
                    _too_long("The last chunk's size line and the trailers", "最后一块的长度行和尾部字段")
                )
            else:
                self._reject(_too_long("The request line and headers", "请求行和请求头"))
        return after

    def _blank_line_end(self, data: bytes, start: int, limit: int) -> int:
        """Where the blank line after the head so far ends in ``data``, if by ``limit``; else -1."""
        at = (self._tail + data[start : start + 3]).find(_BLANK_LINE)
        if at >= 0:
            end = start + at + 4 - len(self._tail)
            return end if end <= limit else -1
        at = data.find(_BLANK_LINE, start, limit)
        return at + 4 if at >= 0 else -1

    def _feed_chunks(self, data: bytes, start: int) -> int:
        """Feeds the parser a chunked body's chunks from ``start`` in one piece, up to the end of
        the last chunk's size line at most (its trailers are fed as a head is). Each size line
        is read here too, for the length of the data that follows it, and one longer than
        MAX_HEAD bytes is refused: an extension can make one as long as a client likes."""
        end, at, left = len(data), start, self._chunk_left
        while at < end:
            if left:  # data, then its closing CRLF
                if left >= end - at:
                    self._chunk_left = left - (end - at)
                    return self._feed(data, start, end)
                at, left = at + left, 0
            limit = min(end, at + MAX_HEAD - self._head_bytes)
            newline = data.find(b"\n", at, limit)
            if newline < 0:
                self._size_line += data[at:limit]
                self._head_bytes += limit - at
                self._chunk_left = 0
                after = self._feed(data, start, limit)
                if limit < end and not self._refused:
                    self._reject(_too_long("A chunk's size line", "分块的长度行"))
                return after
            line, at = data[at : newline + 1], newline + 1
            if self._size_line:
                line, self._size_line, self._head_bytes = self._size_line + line, b"", 0
            digits = line.partition(b";")[0].rstrip(b"\r\n")
            if not _HEX.fullmatch(digits):
                self._chunk_left = 0
                after = self._feed(data, start, at)  # the parser refuses the line
                self._reject(_not_http())
                return after
            size = int(digits, 16)
            if size == 0:  # the last chunk: trailers follow, then a blank line
                self._chunk_left = 0
                self._in_trailers, self._tail, self._head_bytes = True, line[-3:], len(line)
                return self._feed(data, start, at)
            left = size + 2
        self._chunk_left = left
        return self._feed(data, start, end)

    def _feed(self, data: bytes, start: int, stop: int) -> int:
        """Has the parser parse ``data[start:stop]``; answers where the next bytes begin."""
        if stop == start:
            return start
        try:
            self.parser.feed_data(data if stop - start == len(data) else memoryview(data)[start:stop])
        except httptools.HttpParserUpgrade as upgrade:
            # The parser stops after an upgrade request (its body, if any, skipped). It is
            # answered as HTTP/1.1, and what follows it is HTTP/1.1 too.
            if self._upgrade_body is not None:
                self._continue_with_body(self._upgrade_body)
            return start + int(upgrade.args[0])
        except httptools.HttpParserError as exc:
            self._reject(_not_http(), exc)
            return len(data)
        return stop

    def _declared_length(self) -> int | None:
        """The length of the current request's body from its headers (as the parser checked
        them); None for a chunked one."""
        length = 0
        for name, value in self.headers:
            if name == b"transfer-encoding":
                return None  # the parser refuses a request's encoding that does not end chunked
            if name == b"content-length":
                length = int(value)
        return length

    def _continue_with_body(self, framing: bytes) -> None:
        """Has the parser read the body of the upgrade request just parsed, as the body of a
        stand-in message that is not a request of its own."""
        self._upgrade_body = None
        self._continuing = True
        try:
            self.parser.feed_data(b"POST / HTTP/1.1\r\n" + framing + b"\r\n\r\n")
        finally:
            self._continuing = False

    def on_headers_complete(self) -> None:
        self._head_ended = self._in_body = True
        self._body_left = _UNKNOWN
        if self._continuing:
            return  # the stand-in head of an upgrade request's body (see _continue_with_body)
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        # A HEAD response has no body write for its head to wait for.
        if cycle is not previous and cycle.scope["method"] != "HEAD":
            cycle.transport = cast(asyncio.Transport, HeadWithBody(cycle.transport))
        if self.parser.should_upgrade():
            length = self._declared_length()
            if length is None:
                self._upgrade_body = b"transfer-encoding: chunked"
            elif length:
                self._upgrade_body = b"content-length: %d" % length

    def on_message_complete(self) -> None:
        if self._upgrade_body is not None:
            return  # its body is still to come (see _feed)
        self._in_body, self._blank, self._in_trailers = False, True, False
        # What follows a request that closes the connection is not read (as uvicorn has the
        # parser do), so it is not taken for the head of another.
        self._ended = not self.cycle.keep_alive
        super().on_message_complete()

    def _reject(self, error: TaskcenterError, cause: Exception | None = None) -> None:
        """Answers a request the application never saw, and closes the connection."""
        if self._refused:
            return
        self._refused = True
        request_id = b"%032x" % next(_ids)
        log.info(
            "refused before the application: %d %s request_id=%s client=%s: %s%s",
            error.http_status, error.error_code, request_id.decode(), _address(self.client),
            error.message(), f" ({escape(cause)})" if cause else "",
        )  # fmt: skip
        body = error_body(error)
        head = [STATUS_LINE[error.http_status]]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body))
        head.append(b"x-request-id: " + request_id + b"\r\nconnection: close\r\n\r\n")
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


def _address(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "-"


def _not_http() -> InvalidParameter:
    return InvalidParameter("The request is not valid HTTP/1.1.", "请求不是合法的 HTTP/1.1。")


def _too_long(what: str, what_zh: str) -> HeadTooLarge:
    return HeadTooLarge(f"{what} exceed {MAX_HEAD} bytes.", f"{what_zh}超过 {MAX_HEAD} 字节。")
