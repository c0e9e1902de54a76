"""The outermost layer: a request id on every answer, a last-resort 500 (in the TaurusDB format,
with its id) included, so no fault escapes as a traceback."""

from __future__ import annotations

import itertools
import logging
import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskcenter.api.logsafe import escape
from taskcenter.api.responses import JSON, error_body
from taskcenter.domain.errors import ServerFailure

log = logging.getLogger("taskcenter.api")


def request_ids() -> itertools.count[int]:
    return itertools.count(int.from_bytes(os.urandom(8)) << 64)


class RequestIds:
    """Gives each HTTP request an id (X-Request-Id, echoed in logs) and a last-resort 500, in
    the TaurusDB format, for an error no handler answered or an application that did not answer.

    It wraps the whole application, so even responses made by Starlette's own error
    middleware carry the header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Unique across nodes and restarts (a random high half) without a getrandom system
        # call per request, which also released the GIL each time.
        self._ids = request_ids()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"{next(self._ids):032x}"
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if started:
                return  # already answered and logged by the application's error handler
            log.exception("unhandled error request_id=%s path=%s", request_id, escape(scope["path"]))
        else:
            if started:
                return
            # uvicorn would answer in plain text, without a request id.
            log.error(
                "no answer from the application request_id=%s path=%s", request_id, escape(scope["path"])
            )
        error = ServerFailure()
        body = error_body(error)
        headers = [(b"content-type", JSON.media_type.encode()), (b"content-length", b"%d" % len(body))]
        await send_with_id({"type": "http.response.start", "status": error.http_status, "headers": headers})
        await send_with_id({"type": "http.response.body", "body": body})
