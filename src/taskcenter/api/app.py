"""The ASGI application: the route table, the error table, the services' lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from taskcenter.api import errors, instances, jobs, polls, producer, tokens
from taskcenter.api.polls import HotPath
from taskcenter.api.request_ids import RequestIds
from taskcenter.api.responses import JSON
from taskcenter.api.services import Services

ServicesOpener = Callable[[], AbstractAsyncContextManager[Services]]


async def health(request: Request) -> Response:
    return JSON({"status": "ok"})


ROUTES = [
    # Its GETs never reach this table: HotPath serves them first. Listed for HEAD, and so that
    # other methods get 405 rather than 404.
    Route("/v3/{project_id}/jobs", polls.show_job, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/v3/auth/tokens", tokens.create_token, methods=["POST"]),
    Route("/v3/{project_id}/jobs/{job_id}", jobs.delete_job, methods=["DELETE"]),
    Route("/v3/{project_id}/immediate-jobs", jobs.list_jobs, methods=["GET"]),
    Route("/v3/{project_id}/scheduled-jobs", jobs.list_scheduled, methods=["GET"]),
    Route("/v3/{project_id}/scheduled-jobs", jobs.cancel_scheduled, methods=["DELETE"]),
    Route(
        "/v3/{project_id}/instances/{instance_id}/task-center-detail",
        jobs.show_task_details,
        methods=["GET"],
    ),
    Route("/v3/{project_id}/instances", instances.create_instance, methods=["POST"]),
    Route("/v3/{project_id}/instances", instances.list_instances, methods=["GET"]),
    Route("/v3/{project_id}/instances/{instance_id}", instances.show_instance, methods=["GET"]),
    Route("/v3/{project_id}/instances/{instance_id}", instances.delete_instance, methods=["DELETE"]),
    # The v3.1 "unify status" twins (statuses creating, normal, abnormal, createfail).
    Route("/v3.1/{project_id}/instances", instances.list_instances_unify, methods=["GET"]),
    Route("/v3.1/{project_id}/instances/{instance_id}", instances.show_instance_unify, methods=["GET"]),
    Route("/v3/{project_id}/instances/{instance_id}/restart", instances.restart_instance, methods=["POST"]),
    Route("/v3/{project_id}/instances/{instance_id}/action", instances.resize_instance, methods=["POST"]),
    Route("/v3/{project_id}/instances/{instance_id}/databases", instances.create_databases, methods=["POST"]),
    Route("/v3/{project_id}/instances/{instance_id}/db-users", instances.create_users, methods=["POST"]),
    Route("/v3/{project_id}/instances/{instance_id}/password", instances.reset_password, methods=["POST"]),
    Route("/v3/{project_id}/backups/create", instances.create_backup, methods=["POST"]),
    Route("/v3/{project_id}/backups", instances.list_backups, methods=["GET"]),
    Route("/v3/{project_id}/flavors/{database_name}", instances.show_flavors, methods=["GET"]),
    Route("/v3/{project_id}/datastores/{database_name}", instances.show_engine_versions, methods=["GET"]),
    Route("/internal/v1/jobs", producer.create_job, methods=["POST"]),
    Route("/internal/v1/jobs/{job_id}", producer.update_job, methods=["PATCH"]),
    Route("/internal/v1/jobs/{job_id}", producer.show_job, methods=["GET"]),
    Route("/internal/v1/jobs/{job_id}/cancel", producer.cancel_job, methods=["POST"]),
]


def create_app(open_services: ServicesOpener) -> RequestIds:
    """The application. Its services are opened inside the server's event loop at startup and
    closed at shutdown; ``taskcenter.wiring`` assembles them and what runs beside them.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Services]]:
        async with open_services() as services:
            # Starlette copies this state into every request's scope["state"].
            yield {"services": services}

    app = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers=errors.HANDLERS,
    )
    # The cloud's gateway answers a path it does not publish, a trailing slash included, with
    # 404 APIGW.0101; Starlette would redirect it (307) to the path without the slash.
    app.router.redirect_slashes = False
    return RequestIds(HotPath(app))
