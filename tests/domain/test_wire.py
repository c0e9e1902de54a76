from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from taskcenter.domain.errors import InvalidParameter, JobNotFound
from taskcenter.domain.job import Instance, Job, SubTask
from taskcenter.domain.requests import parse_job_list_query, parse_new_job, parse_patch
from taskcenter.domain.status import JobStatus
from taskcenter.domain.wire import (
    format_time,
    job_info,
    parse_job_id,
    parse_time,
    sub_task_info,
    task_detail_info,
)

T0 = datetime(2018, 8, 6, 10, 41, 14, 999, tzinfo=UTC)
JOB_ID = "a9767ede-fe0f-4888-9003-e843a4c90514"


def job(**kw: object) -> Job:
    base: dict[str, object] = {
        "id": JOB_ID,
        "project_id": "p",
        "name": "CreateMysqlInstance",
        "status": JobStatus.RUNNING,
        "created": T0,
        "started": T0,
        "progress": 60,
    }
    base.update(kw)
    return Job(**base)  # type: ignore[arg-type]


def test_times_are_utc_with_numeric_offset() -> None:
    assert format_time(T0) == "2018-08-06T10:41:14+0000"
    assert format_time(datetime(2018, 8, 6, 16, 41, 14, tzinfo=timezone(timedelta(hours=8)))) == (
        "2018-08-06T08:41:14+0000"
    )
    assert format_time(None) == ""
    assert parse_time("t", "2018-08-06T10:41:14+0100") == datetime(2018, 8, 6, 9, 41, 14, tzinfo=UTC)
    with pytest.raises(InvalidParameter, match="start_time"):
        parse_time("start_time", "2018-08-06 10:41")


def test_running_job_shows_progress_and_no_end() -> None:
    assert job_info(job()) == {
        "id": JOB_ID, "name": "CreateMysqlInstance", "status": "Running",
        "created": "2018-08-06T10:41:14+0000", "ended": "", "process": "60%",
        "instance": {"id": "", "name": ""}, "entities": {}, "fail_reason": "",
    }  # fmt: skip


def test_completed_job_hides_progress_and_shows_end() -> None:
    done = job(status=JobStatus.COMPLETED, ended=T0 + timedelta(hours=6), progress=100,
               instance=Instance("i1", "db"), entities={"a": 1})  # fmt: skip
    info = job_info(done)
    assert info["process"] == "" and info["ended"] == "2018-08-06T16:41:14+0000"
    assert info["instance"] == {"id": "i1", "name": "db"} and info["entities"] == {"a": 1}


def test_fail_reason_only_when_failed() -> None:
    assert job_info(job(status=JobStatus.FAILED, ended=T0, fail_reason="x"))["fail_reason"] == "x"
    assert job_info(job(status=JobStatus.CANCELED, ended=T0, fail_reason="x"))["fail_reason"] == ""


def test_task_detail_info_has_the_sdk_model_fields() -> None:
    from huaweicloudsdkgaussdb.v3.model.task_detail_info import TaskDetailInfo

    info = task_detail_info(job(sub_tasks=(SubTask("s", 10, "Running", 5),)))
    assert set(info) == set(TaskDetailInfo.openapi_types)
    assert info["show_detail"] is True and info["process"] == "60%"
    assert sub_task_info(SubTask("s", 10, "Running", 5)) == {
        "sub_task_name": "s", "percent": "10", "status": "Running", "remaining_time": "5"
    }  # fmt: skip


def test_job_info_has_the_sdk_model_fields() -> None:
    from huaweicloudsdkgaussdb.v3.model.get_job_info_detail import GetJobInfoDetail

    assert set(job_info(job())) == set(GetJobInfoDetail.openapi_types)


@pytest.mark.parametrize("bad", ["abc", JOB_ID + "0", JOB_ID.replace("-", ""), "../../etc"])
def test_job_ids_must_be_uuids(bad: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        parse_job_id("job_id", bad)
    assert refused.value.message() == (
        "Parameter error. job_id: not a job id "
        "(expected a UUID such as a9767ede-fe0f-4888-9003-e843a4c90514)."
    )


@pytest.mark.parametrize("missing", ["", None])
def test_a_job_id_is_required(missing: str | None) -> None:
    with pytest.raises(InvalidParameter) as refused:
        parse_job_id("job_id", missing)
    assert refused.value.message() == "Parameter error. job_id: is required."


def test_job_id_is_case_insensitive() -> None:
    assert parse_job_id("id", JOB_ID.upper()) == JOB_ID


def test_not_found_never_carries_a_detail() -> None:
    assert JobNotFound().message() == "The job does not exist."
    assert JobNotFound().message("zh-cn") == "任务不存在。"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X"}, "project_id"),
        ({"project_id": "p"}, "name"),
        ({"project_id": "p", "name": "1bad"}, "name"),
        ({"project_id": "p", "name": "X", "status": "Completed"}, "status"),
        ({"project_id": "p", "name": "X", "entities": []}, "entities"),
        ({"project_id": "p", "name": "X", "instance": {"name": "n"}}, "id"),
        ({"project_id": "p", "name": "X", "surprise": 1}, "surprise"),
        ({"project_id": "p", "name": "X", "idempotency_key": ""}, "idempotency_key"),
    ],
)
def test_new_job_errors_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParameter, match=field):
        parse_new_job(body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "Nothing to change"),
        ({"process": 101}, "process"),
        ({"process": "abc"}, "process"),
        ({"process": True}, "process"),
        ({"status": "Done"}, "status"),
        ({"sub_tasks": {}}, "sub_tasks"),
        ({"sub_tasks": [{"name": "a", "status": "Weird"}]}, r"sub_tasks\[0\].status"),
        ({"sub_tasks": [{"name": "a", "remaining_time": -1}]}, r"sub_tasks\[0\].remaining_time"),
        ({"fail_reason": 3}, "fail_reason"),
    ],
)
def test_patch_errors_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParameter, match=field):
        parse_patch(body)


def test_patch_accepts_percent_strings() -> None:
    assert parse_patch({"process": "60%"}).progress == 60


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "15"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"offset": "\u00b2"}, "offset"),
        ({"limit": "\u0661\u0660"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"status": "Done"}, "status"),
        ({"job_id": "nope"}, "job_id"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"start_time": "2026-01-02T00:00:00+0000", "end_time": "2026-01-01T00:00:00+0000"}, "end_time"),
    ],
)
def test_list_query_errors_name_the_field(query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidParameter, match=field):
        parse_job_list_query(query)


def test_list_query_defaults() -> None:
    where, page = parse_job_list_query({})
    assert page.number == 1 and page.size == 10 and page.offset == 0
    assert where.status is None
