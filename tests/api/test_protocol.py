"""The serving protocol: one write per response, errors in the TaurusDB format even for a request
that is not HTTP, the head cap, upgrades answered as HTTP/1.1, and what it must leave as it was."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from random import Random
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.server import ServerState

from taskcenter.api.protocol import MAX_HEAD, HttpProtocol
from tests.api.conftest import Api


class RecordingTransport(asyncio.Transport):
    """What uvicorn's protocol hands to the socket, one entry per write."""

    def __init__(self, *, can_end: bool = False) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.can_end = can_end  # whether it can end the stream before closing, as TCP can
        self.ended = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.ended:
            raise RuntimeError("Cannot call write() after write_eof()")  # as asyncio and uvloop
        self.writes.append(bytes(data))

    def write_eof(self) -> None:
        self.ended = True

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return self.can_end

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def fixed_length(scope: Scope, receive: Receive, send: Send) -> None:
    body = b'{"job":{}}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def streamed(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"part", "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def fails_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    raise RuntimeError("the application failed mid-response")


def connect(app: Any, *, can_end: bool = False) -> tuple[HttpProtocol, RecordingTransport]:
    config = Config(app=app, http=HttpProtocol, lifespan="off", log_level="critical")
    config.load()
    protocol = HttpProtocol(config=config, server_state=ServerState(), app_state={})
    transport = RecordingTransport(can_end=can_end)
    protocol.connection_made(transport)
    return protocol, transport


async def serve(app: Any, request: bytes) -> RecordingTransport:
    protocol, transport = connect(app)
    protocol.data_received(request)
    for _ in range(100):
        await asyncio.sleep(0.005)
        finished = transport.closed or (protocol.cycle is not None and protocol.cycle.response_complete)
        if finished and not protocol.pipeline:
            break
    return transport


async def test_a_response_of_known_length_goes_out_in_one_write() -> None:
    transport = await serve(fixed_length, b"GET /v3/p/jobs?id=x HTTP/1.1\r\nhost: t\r\n\r\n")
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\ncontent-length: 10" in head
    assert body == b'{"job":{}}'


async def test_pipelined_requests_get_one_write_each_in_order() -> None:
    request = b"GET /a HTTP/1.1\r\nhost: t\r\n\r\n"
    transport = await serve(fixed_length, request * 3)
    assert len(transport.writes) == 3
    assert all(w.startswith(b"HTTP/1.1 200 OK") and w.endswith(b'{"job":{}}') for w in transport.writes)


async def test_a_head_request_is_answered_though_no_body_follows() -> None:
    transport = await serve(fixed_length, b"HEAD /a HTTP/1.1\r\nhost: t\r\n\r\n")
    assert len(transport.writes) == 1 and transport.writes[0].endswith(b"\r\n\r\n")
    assert b"content-length: 10" in transport.writes[0]


async def test_a_streamed_response_sends_its_head_at_once() -> None:
    transport = await serve(streamed, b"GET /a HTTP/1.1\r\nhost: t\r\n\r\n")
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK") and transport.writes[0].endswith(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in transport.writes[0]
    assert b"".join(transport.writes[1:]) == b"4\r\npart\r\n0\r\n\r\n"


async def test_100_continue_passes_before_the_response_it_precedes() -> None:
    async def reads_body(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["body"] == b"abc"
        await fixed_length(scope, receive, send)

    request = b"POST /a HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n"
    protocol, transport = connect(reads_body)
    protocol.data_received(request)
    await asyncio.sleep(0.01)
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    protocol.data_received(b"abc")
    await asyncio.sleep(0.01)
    assert len(transport.writes) == 2 and transport.writes[1].endswith(b'{"job":{}}')


async def test_a_head_left_waiting_by_a_failed_application_goes_out_before_the_close() -> None:
    transport = await serve(fails_after_start, b"GET /a HTTP/1.1\r\nhost: t\r\n\r\n")
    assert transport.closed
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")


async def test_a_request_that_is_not_http_gets_a_taurusdb_error_and_the_connection_closes() -> None:
    transport = await serve(fixed_length, b"GET /v3/\xff\xfe/jobs HTTP/1.1\r\nhost: t\r\n\r\n")
    assert transport.closed and len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\ncontent-type: application/json\r\n" in head and b"\r\nx-request-id: " in head
    assert orjson.loads(body) == {
        "error_code": "DBS.200001",
        "error_msg": "Parameter error. The request is not valid HTTP/1.1.",
    }
    assert b"\r\ncontent-length: %d\r\n" % len(body) in head


async def echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the length of the body it read."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


async def test_an_endless_header_is_refused_once_the_head_passes_the_cap() -> None:
    """The parser buffers a head however long it is: past MAX_HEAD bytes the request gets a 431
    in the TaurusDB format and the connection closes, whether the head came in one piece or many."""
    for chunk in (MAX_HEAD + 1, 4096):
        protocol, transport = connect(fixed_length)
        protocol.data_received(b"GET /health HTTP/1.1\r\nhost: t\r\nx-junk: ")
        sent = 0
        while not transport.closed and sent < 4 * MAX_HEAD:
            protocol.data_received(b"a" * chunk)
            sent += chunk
        assert transport.closed and sent <= MAX_HEAD + chunk
        head, _, body = transport.writes[-1].partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
        assert b"\r\nx-request-id: " in head
        assert orjson.loads(body) == {
            "error_code": "DBS.200001",
            "error_msg": f"Parameter error. The request line and headers exceed {MAX_HEAD} bytes.",
        }


async def test_a_large_body_and_many_pipelined_requests_are_not_taken_for_a_long_head() -> None:
    """Only a head counts: a body arriving with its head in one large piece, a body far larger than
    the cap, and many small requests in one piece all pass."""
    body = b"x" * (3 * MAX_HEAD)
    request = b"POST /a HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\n\r\n" % len(body)
    transport = await serve(echo_length, request + body)  # one piece
    assert not transport.closed and transport.writes[0].endswith(b"\r\n\r\n%d" % len(body))
    protocol, transport = connect(echo_length)
    protocol.data_received(request)
    for start in range(0, len(body), 1000):  # many pieces
        protocol.data_received(body[start : start + 1000])
    await asyncio.sleep(0.05)
    assert not transport.closed and transport.writes[0].endswith(b"\r\n\r\n%d" % len(body))
    many = b"GET /a HTTP/1.1\r\nhost: t\r\n\r\n" * (2 * MAX_HEAD // 28)
    transport = await serve(fixed_length, many)
    assert not transport.closed and all(w.startswith(b"HTTP/1.1 200 OK") for w in transport.writes)


async def test_trailers_count_as_head_and_tiny_chunks_do_not() -> None:
    """A chunked body's trailers are headers too: an endless one is refused like any other. The
    framing of many small chunks is not a head, however many there are."""
    protocol, transport = connect(echo_length)
    protocol.data_received(
        b"POST /a HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: "
    )
    for _ in range(2 * MAX_HEAD // 4096):
        protocol.data_received(b"a" * 4096)
    assert transport.closed and transport.writes[-1].startswith(b"HTTP/1.1 431 ")
    protocol, transport = connect(echo_length)
    protocol.data_received(b"POST /a HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n")
    for _ in range(MAX_HEAD // 4):  # 16,384 one-byte chunks: 96 KiB of framing
        protocol.data_received(b"1\r\nx\r\n")
    protocol.data_received(b"0\r\n\r\n")
    await asyncio.sleep(0.05)
    assert not transport.closed and transport.writes[0].endswith(b"\r\n\r\n%d" % (MAX_HEAD // 4))


async def test_a_refusal_is_answered_once_and_nothing_follows_it() -> None:
    """Junk past the cap in one read is refused once (a parse error and the cap, not two answers
    written after the stream ended); a request pipelined before it is cut off, not answered after
    the refusal; and nothing raises."""
    protocol, transport = connect(fixed_length, can_end=True)
    protocol.data_received(b"\xff" * (MAX_HEAD + 10))
    assert transport.ended and len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 400 ")
    protocol.data_received(b"more junk")  # dropped while the connection lingers
    assert len(transport.writes) == 1

    raised: list[Exception] = []
    answering, answer = asyncio.Event(), asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        answering.set()
        await answer.wait()
        try:
            await fixed_length(scope, receive, send)
        except Exception as exc:
            raised.append(exc)
            raise

    protocol, transport = connect(slow, can_end=True)
    protocol.data_received(b"GET /a HTTP/1.1\r\nhost: t\r\n\r\nGET /b HTTP/1.1\r\nhost: t\r\nx: ")
    await asyncio.wait_for(answering.wait(), 5)
    protocol.data_received(b"a" * (MAX_HEAD + 1))  # while /a is still being answered
    answer.set()
    deadline = asyncio.get_running_loop().time() + 5
    while protocol.tasks:  # until /a's application and what the protocol does after it are done
        assert asyncio.get_running_loop().time() < deadline, "the request's task did not end"
        await asyncio.sleep(0.005)
    assert transport.ended and len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 431 ")
    assert raised == []  # its answer was dropped as for a client that went away


def head_of(size: int, body: bytes) -> bytes:
    """A request head of exactly ``size`` bytes, its blank line included, announcing ``body``."""
    start = b"POST /a HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\nx-pad: " % len(body)
    return start + b"p" * (size - len(start) - 4) + b"\r\n\r\n"


def as_reads(before: bytes, head: bytes, body: bytes) -> dict[str, list[bytes]]:
    """The bytes ``before + head + body`` as the reads a client's writes may arrive in."""
    message = before + head + body
    end = len(before) + len(head)  # where the head ends
    return {
        "one read": [message],
        "reads of 1000 bytes": [message[i : i + 1000] for i in range(0, len(message), 1000)],
        "the head, then the body": [message[:end], message[end:]],
        "the blank line across three reads": [
            message[: end - 3],
            message[end - 3 : end - 1],
            message[end - 1 :],
        ],
        "a byte at a time around the head's end": [
            message[: end - 4],
            *(message[i : i + 1] for i in range(end - 4, end + 2)),
            message[end + 2 :],
        ],
    }


async def until(condition: Any, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.002)


async def test_the_head_cap_holds_however_the_bytes_arrive() -> None:
    """A head of MAX_HEAD bytes is served and one of MAX_HEAD + 1 refused with a 431 before the
    application sees it: in one read, in many, with the body later, with the blank line split
    across reads, and after another request in the same read, whether that one's body had a
    length or came in chunks."""
    body = b"12345"
    small = b"GET /b HTTP/1.1\r\nhost: t\r\n\r\n"
    chunked = b"POST /c HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    for before in (b"", small, chunked):
        for size, served in ((MAX_HEAD, True), (MAX_HEAD + 1, False)):
            for how, reads in as_reads(before, head_of(size, body), body).items():
                seen: list[str] = []

                async def app(scope: Scope, receive: Receive, send: Send) -> None:
                    seen.append(scope["path"])
                    await echo_length(scope, receive, send)

                protocol, transport = connect(app)
                for data in reads:
                    protocol.data_received(data)
                case = f"{size} bytes after {before[:6]!r}, {how}"
                if served:
                    await until(lambda: b"\r\n\r\n5" in b"".join(transport.writes))
                    assert not transport.closed and "/a" in seen, case
                else:
                    await until(lambda: transport.closed)
                    assert transport.writes[-1].startswith(b"HTTP/1.1 431 "), case
                    assert "/a" not in seen, case


async def test_a_long_chunk_size_line_or_trailer_is_refused_however_it_arrives() -> None:
    """The last chunk's size line with its trailers, like a head, may hold MAX_HEAD bytes."""
    start = b"POST /a HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n"
    for size, served in ((MAX_HEAD, True), (MAX_HEAD + 1, False)):
        trailers = b"0\r\nx-t: " + b"t" * (size - 12) + b"\r\n\r\n"
        assert len(trailers) == size
        for how, reads in as_reads(start, trailers, b"").items():
            protocol, transport = connect(echo_length)
            for data in reads:
                if data:
                    protocol.data_received(data)
            if served:
                await until(lambda: b"\r\n\r\n3" in b"".join(transport.writes))
                assert not transport.closed, how
            else:
                await until(lambda: transport.closed)
                assert transport.writes[-1].startswith(b"HTTP/1.1 431 "), how


async def test_pipelined_requests_are_read_alike_however_the_bytes_arrive() -> None:
    """Fed in slices that end where each part of a message ends, the parser still reads every
    kind of message as it would in one piece: bodies of a known length, chunks with extensions
    and trailers, blank lines before a request, upgrade requests with a body."""
    body = b'{"k":"v\r\n\r\n"}'
    stream = b"".join(
        [
            b"\r\n\r\nGET /a HTTP/1.1\r\nhost: t\r\n\r\n",
            b"POST /b HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body),
            b"POST /c HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n",
            b'5;ext="a;b"\r\n\r\n\r\nx\r\n00010\r\n0123456789abcdef\r\n0;last\r\nx-t: 1\r\ny-t: 2\r\n\r\n',
            b"POST /d HTTP/1.1\r\nhost: t\r\nupgrade: h2c\r\nconnection: Upgrade\r\n",
            b"content-length: %d\r\n\r\n%s" % (len(body), body),
            b"PUT /e HTTP/1.1\r\nhost: t\r\nupgrade: websocket\r\nconnection: upgrade\r\n",
            b"transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"GET /f HTTP/1.1\r\nhost: t\r\n\r\n",
        ]
    )
    random = Random(18)
    cuts = [sorted(random.sample(range(1, len(stream)), k)) for k in (3, 30, 120)]
    ways = {
        "one read": [stream],
        "a byte at a time": [stream[i : i + 1] for i in range(len(stream))],
        **{
            f"{len(c) + 1} random reads": [
                stream[i:j] for i, j in zip([0, *c], [*c, len(stream)], strict=True)
            ]
            for c in cuts
        },
    }
    for how, reads in ways.items():
        seen: list[str] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope["path"])
            await echo_length(scope, receive, send)

        protocol, transport = connect(app)
        for data in reads:
            protocol.data_received(data)
        await until(lambda: len(transport.writes) == 6)
        lengths = [w.partition(b"\r\n\r\n")[2] for w in transport.writes]
        assert lengths == [b"0", b"%d" % len(body), b"21", b"%d" % len(body), b"3", b"0"], how
        assert seen == ["/a", "/b", "/c", "/d", "/e", "/f"], how
        assert not transport.closed, how


async def test_what_follows_a_request_that_closes_the_connection_is_not_read() -> None:
    """As uvicorn has the parser do: it is neither a head too long nor a request to answer."""
    request = b"GET /a HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"
    protocol, transport = connect(fixed_length)
    protocol.data_received(request + b"x" * (2 * MAX_HEAD))
    await until(lambda: transport.closed)
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")


Answer = tuple[int, dict[str, str], bytes]


def answers_in(received: bytes) -> list[Answer]:
    """The complete responses in ``received``: status, headers (names in lower case), body."""
    answers: list[Answer] = []
    while True:
        head, blank, rest = received.partition(b"\r\n\r\n")
        if not blank:
            return answers
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        if len(rest) < length:
            return answers
        answers.append((int(status_line.split()[1]), headers, rest[:length]))
        received = rest[length:]


def exchange(url: str, *writes: bytes, answers: int = 1) -> list[Answer]:
    """Sends ``writes`` over one connection, each once the answers to the writes before it came
    in (``answers`` in all, at most one a write), and returns the answers."""
    parts = urlsplit(url)
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        for sent, data in enumerate(writes, start=1):
            conn.sendall(data)
            wanted = max(answers - len(writes) + sent, 0)
            while len(answers_in(received)) < wanted and (chunk := conn.recv(65536)):
                received += chunk
    return answers_in(received)


def token_request(api: Api, *headers: bytes) -> bytes:
    c = api.creds["a"]
    identity = {"methods": ["password"], "password": {"user": {"name": c.user, "password": c.password}}}
    body = orjson.dumps({"auth": {"identity": identity, "scope": {"project": {"id": c.project_id}}}})
    head = b"POST /v3/auth/tokens HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
    return head + b"".join(h + b"\r\n" for h in headers) + b"content-length: %d\r\n\r\n" % len(body) + body


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, count: int = 1) -> list[logging.LogRecord]:
    """The log lines holding ``text``, once there are ``count`` of them."""
    deadline = time.monotonic() + 10
    while len(lines := [r for r in caplog.records if text in r.getMessage()]) < count:
        assert time.monotonic() < deadline, f"fewer than {count} log lines with {text!r}"
        time.sleep(0.01)
    return lines


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_long_head_is_refused_and_logged_as_one_line_whenever_its_body_comes(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """66 KB of head with the body in the same write, or sent once the head was answered: 431
    both times, before the application saw it, and one info line; no failure, no traceback."""
    caplog.set_level(logging.INFO)
    request = token_request(api, b"x-junk: " + b"j" * 66_000)
    head, _, body = request.partition(b"\r\n\r\n")
    for writes in ([request], [head + b"\r\n\r\n", body]):
        [(status, headers, answer)] = exchange(api.url, *writes, answers=1)
        assert status == 431 and headers["content-type"] == "application/json", answer
        assert orjson.loads(answer)["error_code"] == "DBS.200001" and headers["x-request-id"]
    refusals = [r for r in caplog.records if "refused before the application: 431" in r.getMessage()]
    assert len(refusals) == 2 and all(r.levelno == logging.INFO for r in refusals)
    assert problems(caplog) == []


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_request_cut_off_or_left_by_its_client_is_logged_as_one_line(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A client gone in the middle of a body, and a request whose trailers pass the cap while
    the application reads its body, are not server failures: an info line each, no traceback."""
    caplog.set_level(logging.INFO)
    parts = urlsplit(api.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(b'POST /v3/auth/tokens HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n{"auth":')
    wait_for_log(caplog, "client gone before its request was read")
    chunked = b"POST /v3/auth/tokens HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{\r\n"
    [(status, _, _)] = exchange(api.url, chunked + b"0\r\nx-t: " + b"t" * MAX_HEAD, answers=1)
    assert status == 431
    wait_for_log(caplog, "refused before the application: 431")
    gone = wait_for_log(caplog, "client gone before its request was read", count=2)
    assert len(gone) == 2 and all(r.levelno == logging.INFO for r in gone)
    assert problems(caplog) == []


@pytest.mark.parametrize("engine", ["sqlite"])
def test_an_upgrade_request_is_answered_as_the_http_request_it_also_is(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """The service has no WebSocket routes and speaks no HTTP/2: a request that asks to switch
    gets its route's answer (404 APIGW.0101 for no route) in the TaurusDB format, its body
    read as any request's, and the connection goes on in HTTP/1.1."""
    websocket = (
        b"upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\n"
        b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    [(status, headers, body)] = exchange(
        api.url, b"GET /v3/chat HTTP/1.1\r\nhost: t\r\n" + websocket + b"\r\n"
    )
    assert status == 404 and headers["content-type"] == "application/json" and headers["x-request-id"]
    assert orjson.loads(body)["error_code"] == "APIGW.0101"
    health = b"GET /health HTTP/1.1\r\nhost: t\r\n"
    pipelined = exchange(api.url, health + websocket + b"\r\n" + health + b"\r\n", answers=2)
    assert [(status, body) for status, _, body in pipelined] == [(200, b'{"status":"ok"}')] * 2
    h2c = (
        b"connection: Upgrade, HTTP2-Settings",
        b"upgrade: h2c",
        b"http2-settings: AAMAAABkAARAAAAAAAIAAAAA",
    )
    with_length = token_request(api, *h2c)
    head, _, body = with_length.partition(b"\r\n\r\n")
    chunked = head.replace(b"content-length: %d" % len(body), b"transfer-encoding: chunked")
    chunked += b"\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    for request in (with_length, chunked):
        served = exchange(api.url, request + health + b"\r\n", answers=2)
        assert [status for status, _, _ in served] == [201, 200], served
        assert served[0][1]["x-subject-token"]
    assert problems(caplog) == []
