"""The TaurusDB wire formats: times, job ids, and the JSON shapes of the job APIs.

Kept in one module so every endpoint answers the same way and the HTTP layer stays thin.
Shapes follow the official SDK's models (GetJobInfoDetail, TaskDetailInfo, SubTaskInfo).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any, overload

from taskcenter.domain.job import Job, SubTask
from taskcenter.domain.problems import Problem, Problems, invalid, printable
from taskcenter.domain.status import JobStatus

# The cloud's documented format "yyyy-mm-ddThh:mm:ssZ", Z being a numeric offset (+0000).
_TIME_IN = "%Y-%m-%dT%H:%M:%S%z"
_JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def format_time(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime, and this runs on every poll.
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "+0000"


# Times a client may send: PostgreSQL and SQLite keep every instant in this range alike
# (PostgreSQL turned year 1 into -infinity, which no answer can show).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_TIME_EN = "expected yyyy-mm-ddThh:mm:ssZ with a numeric offset, such as 2026-01-31T08:00:00+0000"
_TIME_ZH = "格式应为 yyyy-mm-ddThh:mm:ssZ（数字时区偏移），例如 2026-01-31T08:00:00+0000"


@overload
def parse_time(field: str, value: str) -> datetime: ...
@overload
def parse_time(field: str, value: str, problems: Problems) -> datetime | None: ...
def parse_time(field: str, value: str, problems: Problems | None = None) -> datetime | None:
    """A time in the cloud's format, from 1970 to 9999; else a problem naming ``field``.

    With ``problems`` the problem is added there and None returned; without, it is raised.
    """
    try:
        parsed = datetime.strptime(value, _TIME_IN)
    except ValueError:
        found = Problem(printable(field), f"{_TIME_EN}.", f"{_TIME_ZH}。")
    else:
        with contextlib.suppress(OverflowError):  # past year 9999 once in UTC
            if EARLIEST <= (in_utc := parsed.astimezone(UTC)) <= LATEST:
                return in_utc
        found = Problem(printable(field), "must be between 1970 and 9999.", "必须在 1970 年到 9999 年之间。")
    if problems is None:
        raise invalid([found])
    problems.add(found.field, found.en, found.zh)
    return None


def parse_job_id(field: str, value: str | None, problems: Problems | None = None) -> str:
    """A job id in canonical (lower-case) form; else a problem naming ``field`` (see parse_time)."""
    if not value:
        found = Problem(field, "is required.", "必填。")
    else:
        lowered = value.lower()
        if len(lowered) == 36 and _JOB_ID.fullmatch(lowered):
            return lowered
        found = Problem(
            field,
            "not a job id (expected a UUID such as a9767ede-fe0f-4888-9003-e843a4c90514).",
            "不是合法的任务ID（应为UUID，例如 a9767ede-fe0f-4888-9003-e843a4c90514）。",
        )
    if problems is None:
        raise invalid([found])
    problems.add(found.field, found.en, found.zh)
    return ""


def process(job: Job) -> str:
    """Progress as the cloud shows it: "NN%" while Running, else empty."""
    return f"{job.progress}%" if job.status is JobStatus.RUNNING else ""


def job_info(job: Job) -> dict[str, Any]:
    """GetJobInfoDetail: the body of GET /v3/{project_id}/jobs?id=."""
    instance = job.instance
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status.value,
        "created": format_time(job.created),
        "ended": format_time(job.ended),
        "process": process(job),
        "instance": {"id": instance.id, "name": instance.name} if instance else {"id": "", "name": ""},
        "entities": job.entities,
        "fail_reason": job.fail_reason if job.status is JobStatus.FAILED else "",
    }


def task_detail_info(job: Job, instance_status: str = "") -> dict[str, Any]:
    """TaskDetailInfo: one row of GET /v3/{project_id}/immediate-jobs."""
    instance = job.instance
    return {
        "instance_id": instance.id if instance else "",
        "instance_name": instance.name if instance else "",
        "instance_status": instance_status,
        "job_id": job.id,
        "order_id": "",
        "job_name": job.name,
        "status": job.status.value,
        "process": process(job),
        "created_time": format_time(job.created),
        "ended_time": format_time(job.ended),
        "fail_reason": job.fail_reason if job.status is JobStatus.FAILED else "",
        "show_detail": bool(job.sub_tasks),
        "extend_fields": {},
    }


def sub_task_info(sub_task: SubTask) -> dict[str, Any]:
    """SubTaskInfo: percent and remaining_time are strings on the wire.

    remaining_time is documented as a number of seconds, with no word for "unknown": when the
    producer did not say, the field is left out (the SDK reads None), never an empty string
    that a client would have to parse as seconds.
    """
    info = {"sub_task_name": sub_task.name, "percent": str(sub_task.percent), "status": sub_task.status}
    if sub_task.remaining_time is not None:
        info["remaining_time"] = str(sub_task.remaining_time)
    return info


def sub_task_to_json(sub_task: SubTask) -> dict[str, Any]:
    """How a sub-task is stored and how the producer API shows it."""
    return {
        "name": sub_task.name,
        "percent": sub_task.percent,
        "status": sub_task.status,
        "remaining_time": sub_task.remaining_time,
    }


def sub_task_from_json(raw: dict[str, Any]) -> SubTask:
    return SubTask(raw["name"], raw["percent"], raw["status"], raw.get("remaining_time"))


# ScheduleTask.job_name uses the cloud's short names for the operations that can be delayed.
SCHEDULE_NAMES = {
    "ResizeGaussDBforMySQLFlavor": "RESIZE_FLAVOR",
    "RebootGaussDBforMySQLInstance": "REBOOT_INSTANCE",
    "UpgradeGaussDBforMySQLDatabaseVersion": "VERSION_UPGRADE",
}
_JOB_NAMES = {short: name for name, short in SCHEDULE_NAMES.items()}


def schedule_job_name(shown: str) -> str:
    """The job name behind a scheduled-jobs ``job_name``: the list shows the short names, so
    a filter by what the list shows finds it (a full job name is taken as it is)."""
    return _JOB_NAMES.get(shown, shown)


def schedule_task(job: Job, instance_status: str = "") -> dict[str, Any]:
    """ScheduleTask: one row of GET /v3/{project_id}/scheduled-jobs."""
    instance = job.instance
    target = job.params.get("target_config")
    return {
        "job_id": job.id,
        "instance_id": instance.id if instance else "",
        "instance_name": instance.name if instance else "",
        "instance_status": instance_status,
        "project_id": job.project_id,
        "job_name": SCHEDULE_NAMES.get(job.name, job.name),
        "create_time": format_time(job.created),
        "start_time": format_time(job.run_at),
        "end_time": format_time(job.ended),
        "job_status": job.status.value,
        "datastore_type": "gaussdb-mysql",
        "target_config": target if isinstance(target, dict) else {},
        "proxy_id": "",
        "proxy_name": "",
    }


def task_details(job: Job) -> dict[str, Any]:
    """The body of GET /v3/{project_id}/instances/{instance_id}/task-center-detail."""
    instance = job.instance
    return {
        "instance_id": instance.id if instance else "",
        "instance_name": instance.name if instance else "",
        "job_id": job.id,
        "job_name": job.name,
        "status": job.status.value,
        "sub_task_list": [sub_task_info(s) for s in job.sub_tasks],
    }
