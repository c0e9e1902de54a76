"""Validation of what clients send: producer bodies and list filters.

Every request is checked whole before anything is written, so a bad request never leaves a
half-applied change behind; InvalidParameter then names every field that is wrong, at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.job import Instance, JobPatch, NewJob, SubTask
from taskcenter.domain.problems import Problems, bad
from taskcenter.domain.status import JobStatus
from taskcenter.domain.wire import parse_job_id, parse_time

MAX_NAME = 128
MAX_ID = 128
MAX_FAIL_REASON = 4096
MAX_ENTITIES_BYTES = 64 * 1024
MAX_SUB_TASKS = 100
# JSON nests this deep at most. Deeper bodies are refused at the door: orjson cannot write back
# more than 255 levels, and no TaurusDB shape comes near a tenth of this.
MAX_JSON_DEPTH = 32
SUB_TASK_STATUSES = ("Pending", "Running", "Completed", "Failed")
PAGE_SIZES = (10, 20, 50)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
_PROJECT_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_PERCENT = re.compile(r"([0-9]{1,3})%?")
_NUL = "\x00"


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body: a JSON object, no deeper than MAX_JSON_DEPTH, no NUL in any key or string.

    PostgreSQL's text cannot hold NUL, so one store would refuse what the other keeps: every
    body is held to the same rule here, whichever store is behind it.
    """
    if not raw:
        raise InvalidParameter(
            "The request body is empty; send a JSON object.", "请求体为空，请发送一个 JSON 对象。"
        )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if exc.msg == "depth limit exceeded":  # past orjson's own 1024 levels: one limit, one reason
            raise InvalidParameter(
                f"body: nests deeper than {MAX_JSON_DEPTH} levels of JSON.",
                f"body: JSON 嵌套超过 {MAX_JSON_DEPTH} 层。",
            ) from None
        raise InvalidParameter(
            "The request body is not valid JSON (UTF-8).", "请求体不是合法的 JSON（UTF-8）。"
        ) from None
    if not isinstance(body, dict):
        raise InvalidParameter("The request body must be a JSON object.", "请求体必须是 JSON 对象。")
    problems = Problems()
    _check_json(body, "", 1, problems)
    problems.check()
    return body


def _check_json(value: Any, where: str, depth: int, problems: Problems) -> None:
    if isinstance(value, str):
        if _NUL in value:
            problems.add(where or "body", "must not contain the NUL character.", "不能包含 NUL 字符。")
        return
    if not isinstance(value, dict | list):
        return
    if depth > MAX_JSON_DEPTH:
        # Named by its top-level field: the full path would be as deep as the document.
        problems.add(
            re.split(r"[.\[]", where, maxsplit=1)[0] or "body",
            f"nests deeper than {MAX_JSON_DEPTH} levels of JSON.",
            f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层。",
        )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else key
            if _NUL in key:
                problems.add(path, "a key must not contain the NUL character.", "键不能包含 NUL 字符。")
            _check_json(item, path, depth + 1, problems)
    else:
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]", depth + 1, problems)


def check_text(problems: Problems, field: str, value: str, limit: int) -> bool:
    """A client's text outside a JSON body (a query or path value): bounded, no NUL."""
    if _NUL in value:
        problems.add(field, "must not contain the NUL character.", "不能包含 NUL 字符。")
        return False
    if len(value) > limit:
        problems.too_long(field, limit)
        return False
    return True


def _unknown_fields(
    body: dict[str, Any], allowed: frozenset[str], problems: Problems, where: str = ""
) -> None:
    for extra in sorted(set(body) - allowed):
        problems.unknown(f"{where}{extra}", allowed)


def _string(
    body: dict[str, Any],
    field: str,
    limit: int,
    problems: Problems,
    *,
    required: bool = False,
    where: str = "",
) -> str | None:
    """The string at ``field``, or None (absent, or wrong: then a problem is added)."""
    value = body.get(field)
    if value is None:
        if required:
            problems.required(where + field)
        return None
    if not isinstance(value, str):
        problems.wrong_type(where + field, "a string")
        return None
    if len(value) > limit:
        problems.too_long(where + field, limit)
        return None
    return value


def parse_project_id(field: str, value: str, problems: Problems | None = None) -> str:
    if not _PROJECT_ID.fullmatch(value):
        why = (
            "not a project id (1-64 letters, digits, '-' or '_').",
            "不是合法的项目ID（1-64 个字母、数字、'-' 或 '_'）。",
        )
        if problems is None:
            raise bad(field, *why)
        problems.add(field, *why)
    return value


def _job_name(body: dict[str, Any], problems: Problems) -> str:
    name = _string(body, "name", MAX_NAME, problems, required=True)
    if name is not None and not _NAME.fullmatch(name):
        problems.add(
            "name",
            "must start with a letter and hold only letters, digits, '_', '.', '-'.",
            "必须以字母开头，且只能包含字母、数字、'_'、'.'、'-'。",
        )
    return name or ""


def _instance(body: dict[str, Any], problems: Problems) -> Instance | None:
    raw = body.get("instance")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.add("instance", "must be an object {id, name}.", "必须是对象 {id, name}。")
        return None
    _unknown_fields(raw, frozenset({"id", "name"}), problems, "instance.")
    instance_id = _string(raw, "id", MAX_ID, problems, required=True, where="instance.")
    name = _string(raw, "name", MAX_NAME, problems, where="instance.") or ""
    return Instance(instance_id, name) if instance_id is not None else None


def _json_object(body: dict[str, Any], field: str, problems: Problems) -> dict[str, Any] | None:
    raw = body.get(field)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.wrong_type(field, "a JSON object")
        return None
    if len(orjson.dumps(raw)) > MAX_ENTITIES_BYTES:
        problems.add(
            field,
            f"must be at most {MAX_ENTITIES_BYTES} bytes of JSON.",
            f"JSON 最多 {MAX_ENTITIES_BYTES} 字节。",
        )
        return None
    return raw


_PERCENT_EN = "must be an integer 0-100 or a string such as '60%'."
_PERCENT_ZH = "必须是 0-100 的整数，或形如 '60%' 的字符串。"


def _percent(field: str, value: Any, problems: Problems) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and (match := _PERCENT.fullmatch(value)):
        number = int(match.group(1))
    else:
        problems.add(field, _PERCENT_EN, _PERCENT_ZH)
        return None
    if not 0 <= number <= 100:
        problems.add(field, "must be between 0 and 100.", "必须在 0 到 100 之间。")
        return None
    return number


_SUB_TASK_SHAPE = ("must be a list of {name, percent, status, remaining_time}.",
                   "必须是 {name, percent, status, remaining_time} 的列表。")  # fmt: skip


def _sub_tasks(body: dict[str, Any], problems: Problems) -> tuple[SubTask, ...] | None:
    raw = body.get("sub_tasks")
    if raw is None:
        return None
    if not isinstance(raw, list):
        problems.add("sub_tasks", *_SUB_TASK_SHAPE)
        return None
    if len(raw) > MAX_SUB_TASKS:
        problems.too_long("sub_tasks", MAX_SUB_TASKS, "items")
        return None
    result = []
    for index, item in enumerate(raw):
        where = f"sub_tasks[{index}]"
        if not isinstance(item, dict):
            problems.add(where, "must be an object {name, percent, status, remaining_time}.",
                         "必须是对象 {name, percent, status, remaining_time}。")  # fmt: skip
            continue
        _unknown_fields(
            item, frozenset({"name", "percent", "status", "remaining_time"}), problems, f"{where}."
        )
        name = item.get("name")
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            problems.add(f"{where}.name", f"must be a string of 1-{MAX_NAME} characters.",
                         f"必须是 1-{MAX_NAME} 个字符的字符串。")  # fmt: skip
        percent = _percent(f"{where}.percent", item.get("percent", 0), problems)
        status = item.get("status", "Pending")
        if status not in SUB_TASK_STATUSES:
            problems.not_one_of(f"{where}.status", SUB_TASK_STATUSES)
        remaining = item.get("remaining_time")
        if remaining is not None and (
            isinstance(remaining, bool) or not isinstance(remaining, int) or not 0 <= remaining < 2**31
        ):
            problems.add(f"{where}.remaining_time", "must be a number of seconds >= 0, or null.",
                         "必须是大于等于 0 的秒数，或 null。")  # fmt: skip
            remaining = None
        if isinstance(name, str) and percent is not None:
            result.append(SubTask(name, percent, status, remaining))
    return tuple(result)


def _status(raw: Any, allowed: tuple[JobStatus, ...], problems: Problems) -> JobStatus | None:
    if raw is None:
        return None
    for status in allowed:
        if raw == status.value:
            return status
    problems.not_one_of("status", [s.value for s in allowed])
    return None


_NEW_JOB_FIELDS = frozenset(
    {"project_id", "name", "instance", "entities", "status", "idempotency_key", "start_time", "params"}
)
_PATCH_FIELDS = frozenset({"process", "sub_tasks", "entities", "status", "fail_reason"})


def parse_new_job(body: dict[str, Any]) -> NewJob:
    problems = Problems()
    _unknown_fields(body, _NEW_JOB_FIELDS, problems)
    project_id = _string(body, "project_id", 64, problems, required=True)
    if project_id is not None:
        parse_project_id("project_id", project_id, problems)
    status = (
        _status(body.get("status"), (JobStatus.PENDING, JobStatus.RUNNING), problems) or JobStatus.RUNNING
    )
    key = _string(body, "idempotency_key", 255, problems)
    if key == "":
        problems.add("idempotency_key", "must not be empty; omit it instead.", "不能为空；不需要时请省略。")
    start = _string(body, "start_time", 64, problems)
    run_at = parse_time("start_time", start, problems) if start else None
    if run_at is not None:
        if "status" in body and status is not JobStatus.PENDING:
            problems.add("status", "a job with a start_time is Pending until then.",
                         "带 start_time 的任务在开始前为 Pending。")  # fmt: skip
        status = JobStatus.PENDING
    name = _job_name(body, problems)
    instance = _instance(body, problems)
    entities = _json_object(body, "entities", problems)
    params = body.get("params", {})
    if not isinstance(params, dict):
        problems.add(
            "params", "must be a JSON object (the handler's input).", "必须是 JSON 对象（处理程序的输入）。"
        )
    else:
        _json_object(body, "params", problems)
    problems.check()
    assert project_id is not None
    return NewJob(
        project_id=project_id,
        name=name,
        status=status,
        instance=instance,
        entities=entities or {},
        idempotency_key=key,
        run_at=run_at,
        params=params,
    )


def parse_patch(body: dict[str, Any]) -> JobPatch:
    problems = Problems()
    _unknown_fields(body, _PATCH_FIELDS, problems)
    status = _status(body.get("status"), tuple(JobStatus), problems)
    progress = None if body.get("process") is None else _percent("process", body["process"], problems)
    patch = JobPatch(
        status=status,
        progress=progress,
        sub_tasks=_sub_tasks(body, problems),
        entities=_json_object(body, "entities", problems),
        fail_reason=_string(body, "fail_reason", MAX_FAIL_REASON, problems),
    )
    problems.check()
    if patch == JobPatch():
        fields = ", ".join(sorted(_PATCH_FIELDS))
        raise InvalidParameter(
            f"Nothing to change: send one of {fields}.", f"没有要修改的内容：请发送 {fields} 之一。"
        )
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


def parse_int(problems: Problems, field: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A query parameter's integer: ASCII digits only (str.isdigit() also takes '²'), in range."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not low <= int(raw) <= high:
        problems.out_of_range(field, low, high)
        return default
    return int(raw)


def _query_text(problems: Problems, query: dict[str, str], field: str, limit: int) -> str | None:
    value = query.get(field) or None
    if value is not None and not check_text(problems, field, value, limit):
        return None
    return value


def _query_id(problems: Problems, query: dict[str, str], field: str) -> str | None:
    raw = query.get(field)
    return parse_job_id(field, raw, problems) if raw else None


def _query_times(problems: Problems, query: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    start = parse_time("start_time", query["start_time"], problems) if query.get("start_time") else None
    end = parse_time("end_time", query["end_time"], problems) if query.get("end_time") else None
    if start and end and end < start:
        problems.add("end_time", "must not be earlier than start_time.", "不能早于 start_time。")
    return start, end


def parse_job_list_query(query: dict[str, str]) -> tuple[JobFilter, Page]:
    problems = Problems()
    status = _status(query.get("status") or None, tuple(JobStatus), problems)
    job_name = _query_text(problems, query, "job_name", MAX_NAME)
    job_id = _query_id(problems, query, "job_id")
    start, end = _query_times(problems, query)
    # A page number from 1; the SDK documents offset as "not negative", so 0 is the first page too.
    number = max(parse_int(problems, "offset", query.get("offset"), 1, 0, 10**9), 1)
    size = parse_int(problems, "limit", query.get("limit"), 10, 0, 10**9)
    if size not in PAGE_SIZES and not problems.has("limit"):
        problems.not_one_of("limit", [str(s) for s in PAGE_SIZES])
    problems.check()
    return JobFilter(status, job_name, job_id, start, end), Page(number, size)


def parse_schedule_query(query: dict[str, str]) -> tuple[ScheduleFilter, int, int]:
    """Filters, offset (from 0) and limit (1-100, default 100) of the scheduled-jobs list."""
    problems = Problems()
    status = _status(query.get("status") or None, tuple(JobStatus), problems)
    job_id = _query_id(problems, query, "job_id")
    job_name = _query_text(problems, query, "job_name", MAX_NAME)
    instance_id = _query_text(problems, query, "instance_id", MAX_ID)
    start, end = _query_times(problems, query)
    offset = parse_int(problems, "offset", query.get("offset"), 0, 0, 10**9)
    limit = parse_int(problems, "limit", query.get("limit"), 100, 1, 100)
    problems.check()
    return ScheduleFilter(status, job_id, job_name, instance_id, start, end), offset, limit


def parse_cancel_body(body: dict[str, Any]) -> list[str]:
    """{"job_ids": [...]} of DELETE /v3/{project_id}/scheduled-jobs."""
    problems = Problems()
    _unknown_fields(body, frozenset({"job_ids"}), problems)
    raw = body.get("job_ids")
    ids: list[str] = []
    if not isinstance(raw, list) or not raw:
        problems.add("job_ids", "must be a non-empty list of job ids.", "必须是非空的任务ID列表。")
    elif len(raw) > 100:
        problems.add("job_ids", "at most 100 job ids per request.", "每次请求最多 100 个任务ID。")
    else:
        for index, item in enumerate(raw):
            if not isinstance(item, str):
                problems.wrong_type(f"job_ids[{index}]", "a string")
            else:
                ids.append(parse_job_id(f"job_ids[{index}]", item, problems))
    problems.check()
    return list(dict.fromkeys(ids))
