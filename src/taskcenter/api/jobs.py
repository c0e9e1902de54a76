"""The public task-center API: /v3/{project_id}/jobs and /v3/{project_id}/immediate-jobs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from taskcenter.api.context import authenticate, require_project, services
from taskcenter.api.responses import JSON
from taskcenter.domain.errors import JobNotFound
from taskcenter.domain.requests import parse_job_list_query
from taskcenter.domain.wire import job_info, parse_job_id, task_detail_info


async def show_job(request: Request) -> Response:
    """GET /v3/{project_id}/jobs?id= (ShowGaussMySqlJobInfo): the hot path that pollers hit."""
    principal = await authenticate(request)
    project_id = request.path_params["project_id"]
    require_project(principal, project_id)
    job_id = parse_job_id("id", request.query_params.get("id"))
    svc = services(request)
    job = await svc.store.get_job(project_id, job_id, svc.visible_since())
    if job is None:
        raise JobNotFound()
    return JSON({"job": job_info(job)})


async def list_jobs(request: Request) -> Response:
    """GET /v3/{project_id}/immediate-jobs (ListImmediateJobs), newest first."""
    principal = await authenticate(request)
    project_id = request.path_params["project_id"]
    require_project(principal, project_id)
    where, page = parse_job_list_query(dict(request.query_params))
    svc = services(request)
    listing = await svc.store.list_jobs(project_id, where, page, svc.visible_since())
    return JSON(
        {
            "jobs": [task_detail_info(job) for job in listing.jobs],
            "total_count": listing.total_count,
            "action_names": listing.action_names,
        }
    )


async def delete_job(request: Request) -> Response:
    """DELETE /v3/{project_id}/jobs/{job_id} (DeleteTaskRecord): only a finished job's record."""
    principal = await authenticate(request)
    project_id = request.path_params["project_id"]
    require_project(principal, project_id)
    job_id = parse_job_id("job_id", request.path_params["job_id"])
    svc = services(request)
    await svc.store.delete_job(project_id, job_id, svc.visible_since())
    return JSON({})
