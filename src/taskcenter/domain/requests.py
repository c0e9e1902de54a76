"""Validation of what clients send: producer bodies and list filters.

Every check raises InvalidParameter naming the field, before anything is written, so a bad
request never leaves a half-applied change behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.job import Instance, JobPatch, NewJob, SubTask
from taskcenter.domain.status import JobStatus
from taskcenter.domain.wire import parse_job_id, parse_time

MAX_NAME = 128
MAX_ID = 128
MAX_FAIL_REASON = 4096
MAX_ENTITIES_BYTES = 64 * 1024
MAX_SUB_TASKS = 100
SUB_TASK_STATUSES = ("Pending", "Running", "Completed", "Failed")
PAGE_SIZES = (10, 20, 50)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
_PROJECT_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_PERCENT = re.compile(r"(\d{1,3})%?")


def _bad(field: str, why: str) -> InvalidParameter:
    return InvalidParameter(f"{field}: {why}")


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise InvalidParameter("The request body is empty; send a JSON object.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidParameter("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidParameter("The request body must be a JSON object.")
    return body


def _unknown_fields(body: dict[str, Any], allowed: frozenset[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise _bad(extra[0], f"unknown field; allowed fields are {', '.join(sorted(allowed))}.")


def _string(body: dict[str, Any], field: str, limit: int, *, required: bool = False) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise _bad(field, "is required.")
        return None
    if not isinstance(value, str):
        raise _bad(field, "must be a string.")
    if len(value) > limit:
        raise _bad(field, f"must be at most {limit} characters.")
    return value


def parse_project_id(field: str, value: str) -> str:
    if not _PROJECT_ID.fullmatch(value):
        raise _bad(field, "not a project id (1-64 letters, digits, '-' or '_').")
    return value


def _job_name(body: dict[str, Any]) -> str:
    name = _string(body, "name", MAX_NAME, required=True)
    assert name is not None
    if not _NAME.fullmatch(name):
        raise _bad("name", "must start with a letter and hold only letters, digits, '_', '.', '-'.")
    return name


def _instance(body: dict[str, Any]) -> Instance | None:
    raw = body.get("instance")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad("instance", "must be an object {id, name}.")
    _unknown_fields(raw, frozenset({"id", "name"}))
    instance_id = _string(raw, "id", MAX_ID, required=True)
    name = _string(raw, "name", MAX_NAME) or ""
    assert instance_id is not None
    return Instance(instance_id, name)


def _entities(body: dict[str, Any]) -> dict[str, Any] | None:
    raw = body.get("entities")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad("entities", "must be a JSON object.")
    if len(orjson.dumps(raw)) > MAX_ENTITIES_BYTES:
        raise _bad("entities", f"must be at most {MAX_ENTITIES_BYTES} bytes of JSON.")
    return raw


def _percent(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _bad(field, "must be an integer 0-100 or a string such as '60%'.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (match := _PERCENT.fullmatch(value)):
        number = int(match.group(1))
    else:
        raise _bad(field, "must be an integer 0-100 or a string such as '60%'.")
    if not 0 <= number <= 100:
        raise _bad(field, "must be between 0 and 100.")
    return number


def _sub_tasks(body: dict[str, Any]) -> tuple[SubTask, ...] | None:
    raw = body.get("sub_tasks")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _bad("sub_tasks", "must be a list of {name, percent, status, remaining_time}.")
    if len(raw) > MAX_SUB_TASKS:
        raise _bad("sub_tasks", f"at most {MAX_SUB_TASKS} sub-tasks.")
    result = []
    for index, item in enumerate(raw):
        where = f"sub_tasks[{index}]"
        if not isinstance(item, dict):
            raise _bad(where, "must be an object {name, percent, status, remaining_time}.")
        _unknown_fields(item, frozenset({"name", "percent", "status", "remaining_time"}))
        name = item.get("name")
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            raise _bad(f"{where}.name", f"must be a string of 1-{MAX_NAME} characters.")
        percent = _percent(f"{where}.percent", item.get("percent", 0))
        status = item.get("status", "Pending")
        if status not in SUB_TASK_STATUSES:
            raise _bad(f"{where}.status", f"must be one of {', '.join(SUB_TASK_STATUSES)}.")
        remaining = item.get("remaining_time")
        if remaining is not None and (
            isinstance(remaining, bool) or not isinstance(remaining, int) or remaining < 0
        ):
            raise _bad(f"{where}.remaining_time", "must be a number of seconds >= 0, or null.")
        result.append(SubTask(name, percent, status, remaining))
    return tuple(result)


def _status(body: dict[str, Any], allowed: tuple[JobStatus, ...]) -> JobStatus | None:
    raw = body.get("status")
    if raw is None:
        return None
    for status in allowed:
        if raw == status.value:
            return status
    raise _bad("status", f"must be one of {', '.join(s.value for s in allowed)}.")


_NEW_JOB_FIELDS = frozenset(
    {"project_id", "name", "instance", "entities", "status", "idempotency_key", "start_time", "params"}
)
_PATCH_FIELDS = frozenset({"process", "sub_tasks", "entities", "status", "fail_reason"})


def parse_new_job(body: dict[str, Any]) -> NewJob:
    _unknown_fields(body, _NEW_JOB_FIELDS)
    project_id = _string(body, "project_id", 64, required=True)
    assert project_id is not None
    status = _status(body, (JobStatus.PENDING, JobStatus.RUNNING)) or JobStatus.RUNNING
    key = _string(body, "idempotency_key", 255)
    if key == "":
        raise _bad("idempotency_key", "must not be empty; omit it instead.")
    start = _string(body, "start_time", 64)
    run_at = parse_time("start_time", start) if start else None
    if run_at is not None:
        if "status" in body and status is not JobStatus.PENDING:
            raise _bad("status", "a job with a start_time is Pending until then.")
        status = JobStatus.PENDING
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise _bad("params", "must be a JSON object (the handler's input).")
    if len(orjson.dumps(params)) > MAX_ENTITIES_BYTES:
        raise _bad("params", f"must be at most {MAX_ENTITIES_BYTES} bytes of JSON.")
    return NewJob(
        project_id=parse_project_id("project_id", project_id),
        name=_job_name(body),
        status=status,
        instance=_instance(body),
        entities=_entities(body) or {},
        idempotency_key=key,
        run_at=run_at,
        params=params,
    )


def parse_patch(body: dict[str, Any]) -> JobPatch:
    _unknown_fields(body, _PATCH_FIELDS)
    patch = JobPatch(
        status=_status(body, tuple(JobStatus)),
        progress=None if body.get("process") is None else _percent("process", body["process"]),
        sub_tasks=_sub_tasks(body),
        entities=_entities(body),
        fail_reason=_string(body, "fail_reason", MAX_FAIL_REASON),
    )
    if patch == JobPatch():
        raise InvalidParameter(f"Nothing to change: send one of {', '.join(sorted(_PATCH_FIELDS))}.")
    return patch


@dataclass(frozen=True, slots=True)
class JobFilter:
    """The filters of GET /v3/{project_id}/immediate-jobs."""

    status: JobStatus | None = None
    job_name: str | None = None
    job_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # from 1
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True, slots=True)
class ScheduleFilter:
    """The filters of GET /v3/{project_id}/scheduled-jobs; times bound the start time."""

    status: JobStatus | None = None
    job_id: str | None = None
    job_name: str | None = None
    instance_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


def _int(field: str, value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise _bad(field, "must be a non-negative integer.")
    return int(value)


def parse_job_list_query(query: dict[str, str]) -> tuple[JobFilter, Page]:
    status = None
    if raw_status := query.get("status"):
        status = _status({"status": raw_status}, tuple(JobStatus))
    job_name = query.get("job_name") or None
    if job_name is not None and len(job_name) > MAX_NAME:
        raise _bad("job_name", f"must be at most {MAX_NAME} characters.")
    job_id = parse_job_id("job_id", query["job_id"]) if query.get("job_id") else None
    start = parse_time("start_time", query["start_time"]) if query.get("start_time") else None
    end = parse_time("end_time", query["end_time"]) if query.get("end_time") else None
    if start and end and end < start:
        raise _bad("end_time", "must not be earlier than start_time.")
    number = _int("offset", query["offset"]) if query.get("offset") else 1
    if number < 1:
        raise _bad("offset", "is a page number and starts at 1.")
    size = _int("limit", query["limit"]) if query.get("limit") else 10
    if size not in PAGE_SIZES:
        raise _bad("limit", "must be 10, 20 or 50.")
    return JobFilter(status, job_name, job_id, start, end), Page(number, size)


def parse_schedule_query(query: dict[str, str]) -> tuple[ScheduleFilter, int, int]:
    """Filters, offset (from 0) and limit (1-100, default 100) of the scheduled-jobs list."""
    status = None
    if raw_status := query.get("status"):
        status = _status({"status": raw_status}, tuple(JobStatus))
    job_id = parse_job_id("job_id", query["job_id"]) if query.get("job_id") else None
    job_name = query.get("job_name") or None
    if job_name is not None and len(job_name) > MAX_NAME:
        raise _bad("job_name", f"must be at most {MAX_NAME} characters.")
    instance_id = query.get("instance_id") or None
    if instance_id is not None and len(instance_id) > MAX_ID:
        raise _bad("instance_id", f"must be at most {MAX_ID} characters.")
    start = parse_time("start_time", query["start_time"]) if query.get("start_time") else None
    end = parse_time("end_time", query["end_time"]) if query.get("end_time") else None
    if start and end and end < start:
        raise _bad("end_time", "must not be earlier than start_time.")
    offset = _int("offset", query["offset"]) if query.get("offset") else 0
    limit = _int("limit", query["limit"]) if query.get("limit") else 100
    if not 1 <= limit <= 100:
        raise _bad("limit", "must be between 1 and 100.")
    return ScheduleFilter(status, job_id, job_name, instance_id, start, end), offset, limit


def parse_cancel_body(body: dict[str, Any]) -> list[str]:
    """{"job_ids": [...]} of DELETE /v3/{project_id}/scheduled-jobs."""
    _unknown_fields(body, frozenset({"job_ids"}))
    raw = body.get("job_ids")
    if not isinstance(raw, list) or not raw:
        raise _bad("job_ids", "must be a non-empty list of job ids.")
    if len(raw) > 100:
        raise _bad("job_ids", "at most 100 job ids per request.")
    ids = []
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            raise _bad(f"job_ids[{index}]", "must be a string.")
        ids.append(parse_job_id(f"job_ids[{index}]", item))
    return list(dict.fromkeys(ids))
