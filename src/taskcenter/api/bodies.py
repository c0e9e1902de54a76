"""Reading a request's body, refused past MAX_BODY before it is all in memory."""

from __future__ import annotations

from starlette.requests import Request

from taskcenter.domain.errors import PayloadTooLarge

MAX_BODY = 1024 * 1024


async def read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise _body_too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _body_too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _body_too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body exceeds {MAX_BODY} bytes.", f"请求体超过 {MAX_BODY} 字节。")
