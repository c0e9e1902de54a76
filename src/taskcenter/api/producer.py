"""The producer API: how control-plane components put their work in the task center.

Admin credentials only. Report-only jobs are created and driven entirely through it.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from taskcenter.api.access import authenticate, require_admin
from taskcenter.api.bodies import read_body
from taskcenter.api.responses import JSON
from taskcenter.api.services import Services, services
from taskcenter.domain.errors import InvalidParameter, JobNotFound
from taskcenter.domain.job import Job
from taskcenter.domain.requests import parse_body, parse_new_job, parse_patch
from taskcenter.domain.status import JobStatus
from taskcenter.domain.wire import job_info, parse_job_id, sub_task_to_json

log = logging.getLogger("taskcenter.producer")


def _producer_view(job: Job) -> dict[str, Any]:
    return {
        "job": job_info(job),
        "project_id": job.project_id,
        "sub_tasks": [sub_task_to_json(s) for s in job.sub_tasks],
    }


async def create_job(request: Request) -> Response:
    """POST /internal/v1/jobs."""
    body = await read_body(request)
    require_admin(await authenticate(request.scope, body))
    fields = parse_body(body)
    new = parse_new_job(fields)
    svc = services(request.scope)
    handler = svc.registry.get(new.name)
    if handler is not None and not handler.internal:
        # A worker runs it: it waits Pending until claimed, and only the worker moves it on.
        if fields.get("status") == JobStatus.RUNNING.value:
            raise InvalidParameter(
                f"status: {new.name} jobs are run by a worker; they start Pending (omit status).",
                f"status: {new.name} 任务由工作进程执行，创建时为 Pending（请省略 status）。",
            )
        new = dataclasses.replace(
            new, run_by_worker=True, status=JobStatus.PENDING, max_attempts=handler.attempts
        )
    if await svc.store.get_project(new.project_id) is None:
        raise InvalidParameter(
            f"project_id: no project {new.project_id} exists.", f"project_id: 项目 {new.project_id} 不存在。"
        )
    job, created = await svc.store.create_job(new, svc.clock())
    request_id = request.scope["state"]["request_id"]
    if created:
        log.info(
            "job created id=%s project=%s name=%s status=%s request_id=%s",
            job.id, job.project_id, job.name, job.status.value, request_id,
        )  # fmt: skip
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return JSON(_producer_view(job), status_code=201, headers=headers)


async def update_job(request: Request) -> Response:
    """PATCH /internal/v1/jobs/{job_id}: progress, sub-tasks, entities, status; all or nothing."""
    body = await read_body(request)
    require_admin(await authenticate(request.scope, body))
    job_id = parse_job_id("job_id", request.path_params["job_id"])
    patch = parse_patch(parse_body(body))
    svc = services(request.scope)
    job = await svc.store.update_job(job_id, patch, svc.clock())
    if patch.status is not None:
        log.info(
            "job status id=%s status=%s request_id=%s",
            job.id, job.status.value, request.scope["state"]["request_id"],
        )  # fmt: skip
    return JSON(_producer_view(job))


async def _admin_job(request: Request) -> tuple[Services, Job]:
    """The job of the path, of any project, for an admin caller."""
    require_admin(await authenticate(request.scope))
    job_id = parse_job_id("job_id", request.path_params["job_id"])
    svc = services(request.scope)
    job = await svc.store.find_job(job_id)
    if job is None:
        raise JobNotFound()
    return svc, job


async def cancel_job(request: Request) -> Response:
    """POST /internal/v1/jobs/{job_id}/cancel: end a Pending job, or ask a worker to stop one."""
    svc, job = await _admin_job(request)
    await svc.store.request_cancel(job.project_id, [job.id], svc.clock(), svc.visible_since())
    after = await svc.store.find_job(job.id)
    assert after is not None
    return JSON(_producer_view(after))


async def show_job(request: Request) -> Response:
    """GET /internal/v1/jobs/{job_id}: a job of any project, with its sub-tasks and history."""
    svc, job = await _admin_job(request)
    view = _producer_view(job)
    view["events"] = [
        {
            "from_status": e.from_status.value if e.from_status else None,
            "to_status": e.to_status.value,
            "at": e.at.isoformat(),
            "detail": e.detail,
        }
        for e in await svc.store.job_events(job.id)
    ]
    return JSON(view)
