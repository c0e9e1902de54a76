"""The poll, GET /v3/{project_id}/jobs?id=: most of a task center's traffic, on a path of its own.

HotPath sends it to ShowJob before Starlette's middleware and router see it.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from taskcenter.api.access import authorized_project
from taskcenter.api.errors import answer_error
from taskcenter.api.responses import send_body
from taskcenter.api.services import services
from taskcenter.domain.errors import JobNotFound
from taskcenter.domain.wire import parse_job_id


def _query_value(query_string: bytes, name: bytes) -> str | None:
    for pair in query_string.split(b"&"):
        key, _, value = pair.partition(b"=")
        if key == name:
            return unquote_plus(value.decode("latin-1"))
    return None


class ShowJob:
    """GET /v3/{project_id}/jobs?id= (ShowGaussMySqlJobInfo).

    The route every poller hits every few seconds, so it is a raw ASGI app (an instance, so
    Starlette mounts it as one): no Request or Response objects, headers and query read once,
    only the shown columns read, the JSON sent directly. Errors raise and go through the one
    error table.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        project_id = await authorized_project(scope)
        job_id = parse_job_id("id", _query_value(scope["query_string"], b"id"))
        svc = services(scope)
        body = await svc.store.show_job(project_id, job_id, svc.visible_since())
        if body is None:
            raise JobNotFound()
        await send_body(send, body)


show_job = ShowJob()


class HotPath:
    """Dispatches GET /v3/{project_id}/jobs straight to show_job; everything else to Starlette.

    Measured under wrk: Starlette's middleware stack and router cost a poll about as much as
    reading the job does. The route stays in the route table, which still answers its other
    methods (405) and HEAD; errors get exactly the answers Starlette's handlers give.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            parts = scope["path"].split("/")
            if len(parts) == 4 and parts[3] == "jobs" and parts[1] == "v3" and parts[2] and not parts[0]:
                scope["path_params"] = {"project_id": parts[2]}
                try:
                    await show_job(scope, receive, send)
                except Exception as exc:
                    response = await answer_error(Request(scope), exc)
                    await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
