"""The task center's other job routes: lists, scheduled jobs, deleting a record, task details.

The poll, GET /v3/{project_id}/jobs?id=, has a module of its own: api/polls.py.
"""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from taskcenter.api.access import authorized_project
from taskcenter.api.bodies import read_body
from taskcenter.api.responses import JSON
from taskcenter.api.services import Services, services
from taskcenter.domain.errors import InstanceNotFound, JobNotFound
from taskcenter.domain.instance import InstanceStatus
from taskcenter.domain.job import Job
from taskcenter.domain.problems import Problems
from taskcenter.domain.requests import (
    MAX_ID,
    check_text,
    parse_body,
    parse_cancel_body,
    parse_job_list_query,
    parse_schedule_query,
)
from taskcenter.domain.wire import (
    parse_job_id,
    schedule_job_name,
    schedule_task,
    task_detail_info,
    task_details,
)


async def list_jobs(request: Request) -> Response:
    """GET /v3/{project_id}/immediate-jobs (ListImmediateJobs), newest first."""
    project_id = await authorized_project(request.scope)
    where, page = parse_job_list_query(dict(request.query_params))
    svc = services(request.scope)
    listing = await svc.store.list_jobs(project_id, where, page, svc.visible_since())
    statuses = await _instance_statuses(svc, project_id, listing.jobs)
    return JSON(
        {
            "jobs": [task_detail_info(job, _status_of(statuses, job)) for job in listing.jobs],
            "total_count": listing.total_count,
            "action_names": listing.action_names,
        }
    )


async def _instance_statuses(svc: Services, project_id: str, jobs: list[Job]) -> dict[str, str]:
    """The status of each instance the jobs name, as TaskDetailInfo and ScheduleTask show it
    (creating, normal, abnormal, createfail, deleted); none for an instance taskcenter does not
    run (a producer's)."""
    statuses: dict[str, str] = {}
    for job in jobs:
        if job.instance is not None and job.instance.id not in statuses:
            found = await svc.store.get_instance(project_id, job.instance.id)
            statuses[job.instance.id] = (
                "" if found is None else svc.instances.live_status(found) if svc.instances else found.status
            )
    return statuses


def _status_of(statuses: dict[str, str], job: Job) -> str:
    return statuses.get(job.instance.id, "") if job.instance else ""


async def delete_job(request: Request) -> Response:
    """DELETE /v3/{project_id}/jobs/{job_id} (DeleteTaskRecord): only a finished job's record."""
    project_id = await authorized_project(request.scope)
    job_id = parse_job_id("job_id", request.path_params["job_id"])
    svc = services(request.scope)
    await svc.store.delete_job(project_id, job_id, svc.visible_since())
    return JSON({})


async def list_scheduled(request: Request) -> Response:
    """GET /v3/{project_id}/scheduled-jobs (ListScheduleJobs): jobs created with a start time."""
    project_id = await authorized_project(request.scope)
    where, offset, limit = parse_schedule_query(dict(request.query_params))
    if where.job_name is not None:
        where = dataclasses.replace(where, job_name=schedule_job_name(where.job_name))
    svc = services(request.scope)
    jobs, total = await svc.store.list_scheduled(project_id, where, offset, limit, svc.visible_since())
    statuses = await _instance_statuses(svc, project_id, jobs)
    return JSON(
        {"schedules": [schedule_task(job, _status_of(statuses, job)) for job in jobs], "total_count": total}
    )


async def cancel_scheduled(request: Request) -> Response:
    """DELETE /v3/{project_id}/scheduled-jobs (CancelScheduleTask): {"job_ids": [...]}.

    Pending jobs end Canceled; a Running job's handler is asked to stop. All or nothing.
    """
    body = await read_body(request)
    project_id = await authorized_project(request.scope, body)
    job_ids = parse_cancel_body(parse_body(body))
    svc = services(request.scope)
    cancelled = await svc.store.request_cancel(project_id, job_ids, svc.clock(), svc.visible_since())
    return JSON({"job_ids": cancelled})


async def show_task_details(request: Request) -> Response:
    """GET /v3/{project_id}/instances/{instance_id}/task-center-detail?job_id= (ShowTaskDetails)."""
    project_id = await authorized_project(request.scope)
    problems = Problems()
    instance_id = request.path_params["instance_id"]
    check_text(problems, "instance_id", instance_id, MAX_ID)
    job_id = parse_job_id("job_id", request.query_params.get("job_id"), problems)
    problems.check()
    svc = services(request.scope)
    visible_since = svc.visible_since()
    # An instance taskcenter runs has a record (a deleted one is gone, as on every instance
    # route); a producer's instance exists through its jobs only.
    record = await svc.store.get_instance(project_id, instance_id)
    if record is not None and record.status == InstanceStatus.DELETED:
        raise InstanceNotFound()
    job = await svc.store.get_job(project_id, job_id, visible_since)
    if job is not None and job.instance is not None and job.instance.id == instance_id:
        return JSON(task_details(job))
    if record is None and not await svc.store.instance_has_jobs(project_id, instance_id, visible_since):
        raise InstanceNotFound()
    raise JobNotFound()
