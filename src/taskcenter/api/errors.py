"""The one mapping from exceptions to answers, shared by Starlette's handlers and the poll's hot path."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from taskcenter.api.logsafe import escape
from taskcenter.api.responses import error_response, language
from taskcenter.domain.errors import (
    InvalidParameter,
    MethodNotAllowed,
    RouteNotFound,
    ServerFailure,
    TaskcenterError,
)
from taskcenter.identity.aksk import SignatureRefused

log = logging.getLogger("taskcenter.api")


async def taskcenter_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TaskcenterError)
    if exc.http_status == 401:
        # The client's answer may be worded not to tell what the log may (which access keys exist).
        log.info(
            "authentication failed request_id=%s path=%s: %s",
            request.scope["state"]["request_id"], escape(request.scope["path"]),
            escape(exc.reason if isinstance(exc, SignatureRefused) else exc.detail),
        )  # fmt: skip
    return error_response(exc, language(request))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: TaskcenterError = MethodNotAllowed() if exc.status_code == 405 else RouteNotFound()
    return error_response(error, language(request))


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client went away before its request's body was read, or the protocol cut the
    request off (see api.protocol's refusals): nothing failed here, and no one reads the answer."""
    log.info(
        "client gone before its request was read request_id=%s %s %s",
        request.scope["state"]["request_id"], request.method, escape(request.scope["path"]),
    )  # fmt: skip
    error = InvalidParameter(
        "The request ended before its body was complete.", "请求在请求体完整之前就结束了。"
    )
    return error_response(error, language(request))


async def unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "server failure request_id=%s %s %s",
        request.scope["state"]["request_id"], request.method, escape(request.scope["path"]), exc_info=exc,
    )  # fmt: skip
    return error_response(ServerFailure(), language(request))


HANDLERS = {
    TaskcenterError: taskcenter_error,
    HTTPException: http_error,
    ClientDisconnect: client_gone,
    Exception: unexpected,
}


async def answer_error(request: Request, exc: Exception) -> Response:
    """The answer Starlette's exception handlers give for ``exc``: the nearest class in HANDLERS."""
    handler = next(HANDLERS[cls] for cls in type(exc).__mro__ if cls in HANDLERS)
    return await handler(request, exc)
