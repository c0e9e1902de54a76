"""How an answer is written: JSON rendered with orjson, and every error in the TaurusDB format."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Send

from taskcenter.domain.errors import TaskcenterError

_JSON_HEADER = (b"content-type", b"application/json")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def send_body(send: Send, body: bytes) -> None:
    """A rendered JSON answer straight to the ASGI server, for routes written as raw ASGI apps."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [_JSON_HEADER, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def language(request: Request) -> str:
    return "zh-cn" if request.headers.get("x-language", "").lower() == "zh-cn" else "en-us"


def error_body(error: TaskcenterError, lang: str = "en-us") -> bytes:
    """The TaurusDB error format, for every error answer whoever sends it."""
    return orjson.dumps({"error_code": error.error_code, "error_msg": error.message(lang)})


def error_response(error: TaskcenterError, lang: str) -> Response:
    return Response(error_body(error, lang), status_code=error.http_status, media_type=JSON.media_type)
