"""JSON responses rendered with orjson, and the one mapping from errors to responses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from taskcenter.domain.errors import TaskcenterError


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def language(request: Request) -> str:
    return "zh-cn" if request.headers.get("x-language", "").lower() == "zh-cn" else "en-us"


def error_body(error: TaskcenterError, lang: str = "en-us") -> bytes:
    """The TaurusDB error format, for every error answer whoever sends it."""
    return orjson.dumps({"error_code": error.error_code, "error_msg": error.message(lang)})


def error_response(error: TaskcenterError, lang: str) -> Response:
    return Response(error_body(error, lang), status_code=error.http_status, media_type=JSON.media_type)
