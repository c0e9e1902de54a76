"""What the door answers, word for word in both languages, and what a valid request parses to.

A client reads these answers (the SDK shows error_msg as it is, and scripts match on it), so the
whole text of each is held here, with every field it names, in English and Chinese; and a valid
request's whole parse is compared, not one field of it. Written against the mutants that
scripts/mutation found surviving in domain/requests.py: a message emptied or cut, a limit moved
by one, a filter or a field dropped on the way to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.job import Instance, JobPatch, NewJob, SubTask
from taskcenter.domain.requests import (
    JobFilter,
    Page,
    ScheduleFilter,
    parse_body,
    parse_cancel_body,
    parse_job_list_query,
    parse_new_job,
    parse_patch,
    parse_schedule_query,
)
from taskcenter.domain.status import JobStatus

A = "a9767ede-fe0f-4888-9003-e843a4c90514"
B = "0b6f2f0e-3c39-4a6a-8d1c-1f2a3b4c5d6e"
TIME = "expected yyyy-mm-ddThh:mm:ssZ with a numeric offset, such as 2026-01-31T08:00:00+0000."
TIME_ZH = "格式应为 yyyy-mm-ddThh:mm:ssZ（数字时区偏移），例如 2026-01-31T08:00:00+0000。"
NOT_ID = "not a job id (expected a UUID such as a9767ede-fe0f-4888-9003-e843a4c90514)."
NOT_ID_ZH = "不是合法的任务ID（应为UUID，例如 a9767ede-fe0f-4888-9003-e843a4c90514）。"
JOB_FIELDS = "entities, idempotency_key, instance, name, params, project_id, start_time, status"
PATCH_FIELDS = "entities, fail_reason, process, status, sub_tasks"
STATUSES = "Pending, Running, Completed, Failed, Canceled"
PERCENT = "must be an integer 0-100 or a string such as '60%'."
PERCENT_ZH = "必须是 0-100 的整数，或形如 '60%' 的字符串。"
SUB_TASK = "must be an object {name, percent, status, remaining_time}."
SUB_TASK_ZH = "必须是对象 {name, percent, status, remaining_time}。"
SECONDS = "must be a number of seconds >= 0, or null."
SECONDS_ZH = "必须是大于等于 0 的秒数，或 null。"
NESTED = '{"deep": ' + '{"k": ' * 40 + "1" + "}" * 40 + ', "list": ' + "[" * 40 + "]" * 40 + "}"
JOB = {"project_id": "p", "name": "n"}

CASES: list[tuple[Callable[[Any], object], Any, str, str]] = [
    (parse_body, b"", "The request body is empty; send a JSON object.", "请求体为空，请发送一个 JSON 对象。"),
    (
        parse_body,
        b"{not json",
        "The request body is not valid JSON (UTF-8).",
        "请求体不是合法的 JSON（UTF-8）。",
    ),
    (parse_body, b"[1, 2]", "The request body must be a JSON object.", "请求体必须是 JSON 对象。"),
    (
        parse_body,
        b'{"a": "x\\u0000y", "b\\u0000": 1, "c": [{"d": "\\u0000"}]}',
        "a: must not contain the NUL character. b\\x00: a key must not contain the NUL character."
        " c[0].d: must not contain the NUL character.",
        "a: 不能包含 NUL 字符。 b\\x00: 键不能包含 NUL 字符。 c[0].d: 不能包含 NUL 字符。",
    ),
    (
        parse_body,
        NESTED.encode(),
        "deep: nests deeper than 32 levels of JSON. list: nests deeper than 32 levels of JSON.",
        "deep: JSON 嵌套超过 32 层。 list: JSON 嵌套超过 32 层。",
    ),
    (parse_new_job, {}, "project_id: is required. name: is required.", "project_id: 必填。 name: 必填。"),
    (
        parse_new_job,
        {"project_id": 7, "name": 9, "status": "Completed", "bogus": 1, "other": 2},
        f"bogus: unknown field; allowed fields are {JOB_FIELDS}."
        f" other: unknown field; allowed fields are {JOB_FIELDS}."
        " project_id: must be a string. status: must be one of Pending, Running. name: must be a string.",
        f"bogus: 未知字段；允许的字段为 {JOB_FIELDS}。 other: 未知字段；允许的字段为 {JOB_FIELDS}。"
        " project_id: 必须是字符串。 status: 必须是以下之一：Pending, Running。 name: 必须是字符串。",
    ),
    (
        parse_new_job,
        {"project_id": "p" * 65, "name": "n" * 129},
        "project_id: must be at most 64 characters. name: must be at most 128 characters.",
        "project_id: 最多 64 个字符。 name: 最多 128 个字符。",
    ),
    (
        parse_new_job,
        {"project_id": "bad project!", "name": "9starts-with-digit"},
        "project_id: not a project id (1-64 letters, digits, '-' or '_')."
        " name: must start with a letter and hold only letters, digits, '_', '.', '-'.",
        "project_id: 不是合法的项目ID（1-64 个字母、数字、'-' 或 '_'）。"
        " name: 必须以字母开头，且只能包含字母、数字、'_'、'.'、'-'。",
    ),
    (
        parse_new_job,
        {**JOB, "idempotency_key": ""},
        "idempotency_key: must not be empty; omit it instead.",
        "idempotency_key: 不能为空；不需要时请省略。",
    ),
    (
        parse_new_job,
        {**JOB, "idempotency_key": "k" * 256},
        "idempotency_key: must be at most 255 characters.",
        "idempotency_key: 最多 255 个字符。",
    ),
    (parse_new_job, {**JOB, "start_time": "tomorrow"}, f"start_time: {TIME}", f"start_time: {TIME_ZH}"),
    (
        parse_new_job,
        {**JOB, "start_time": "2026-01-01T00:00:00+0000", "status": "Running"},
        "status: a job with a start_time is Pending until then.",
        "status: 带 start_time 的任务在开始前为 Pending。",
    ),
    (
        parse_new_job,
        {**JOB, "instance": "i-1"},
        "instance: must be an object {id, name}.",
        "instance: 必须是对象 {id, name}。",
    ),
    (
        parse_new_job,
        {**JOB, "instance": {"name": 5, "zone": "a"}},
        "instance.zone: unknown field; allowed fields are id, name. instance.id: is required."
        " instance.name: must be a string.",
        "instance.zone: 未知字段；允许的字段为 id, name。 instance.id: 必填。 instance.name: 必须是字符串。",
    ),
    (
        parse_new_job,
        {**JOB, "instance": {"id": "i" * 129, "name": "m" * 129}},
        "instance.id: must be at most 128 characters. instance.name: must be at most 128 characters.",
        "instance.id: 最多 128 个字符。 instance.name: 最多 128 个字符。",
    ),
    (
        parse_new_job,
        {**JOB, "entities": [1], "params": 3},
        "entities: must be a JSON object. params: must be a JSON object (the handler's input).",
        "entities: 必须是JSON 对象。 params: 必须是 JSON 对象（处理程序的输入）。",
    ),
    (
        parse_new_job,
        {**JOB, "entities": {"a": "x" * 70000}, "params": {"b": "y" * 70000}},
        "entities: must be at most 65536 bytes of JSON. params: must be at most 65536 bytes of JSON.",
        "entities: JSON 最多 65536 字节。 params: JSON 最多 65536 字节。",
    ),
    (
        parse_patch,
        {},
        f"Nothing to change: send one of {PATCH_FIELDS}.",
        f"没有要修改的内容：请发送 {PATCH_FIELDS} 之一。",
    ),
    (
        parse_patch,
        {"status": "Done", "process": "lots", "fail_reason": 3, "color": "red"},
        f"color: unknown field; allowed fields are {PATCH_FIELDS}. status: must be one of {STATUSES}."
        f" process: {PERCENT} fail_reason: must be a string.",
        f"color: 未知字段；允许的字段为 {PATCH_FIELDS}。 status: 必须是以下之一：{STATUSES}。"
        f" process: {PERCENT_ZH} fail_reason: 必须是字符串。",
    ),
    (parse_patch, {"process": 101}, "process: must be between 0 and 100.", "process: 必须在 0 到 100 之间。"),
    (parse_patch, {"process": -1}, "process: must be between 0 and 100.", "process: 必须在 0 到 100 之间。"),
    (
        parse_patch,
        {"process": "101%"},
        "process: must be between 0 and 100.",
        "process: 必须在 0 到 100 之间。",
    ),
    (parse_patch, {"process": True}, f"process: {PERCENT}", f"process: {PERCENT_ZH}"),
    (
        parse_patch,
        {"fail_reason": "r" * 4097},
        "fail_reason: must be at most 4096 characters.",
        "fail_reason: 最多 4096 个字符。",
    ),
    (
        parse_patch,
        {"sub_tasks": {"name": "x"}},
        "sub_tasks: must be a list of {name, percent, status, remaining_time}.",
        "sub_tasks: 必须是 {name, percent, status, remaining_time} 的列表。",
    ),
    (
        parse_patch,
        {"sub_tasks": [{"name": "s"}] * 101},
        "sub_tasks: must be at most 100 items.",
        "sub_tasks: 最多 100 项。",
    ),
    (
        parse_patch,
        {"sub_tasks": [3, {"name": "", "percent": "x", "status": "Done", "remaining_time": -1, "eta": 1}]},
        f"sub_tasks[0]: {SUB_TASK}"
        " sub_tasks[1].eta: unknown field; allowed fields are name, percent, remaining_time, status."
        f" sub_tasks[1].name: must be a string of 1-128 characters. sub_tasks[1].percent: {PERCENT}"
        f" sub_tasks[1].status: must be one of Pending, Running, Completed, Failed."
        f" sub_tasks[1].remaining_time: {SECONDS}",
        f"sub_tasks[0]: {SUB_TASK_ZH}"
        " sub_tasks[1].eta: 未知字段；允许的字段为 name, percent, remaining_time, status。"
        f" sub_tasks[1].name: 必须是 1-128 个字符的字符串。 sub_tasks[1].percent: {PERCENT_ZH}"
        " sub_tasks[1].status: 必须是以下之一：Pending, Running, Completed, Failed。"
        f" sub_tasks[1].remaining_time: {SECONDS_ZH}",
    ),
    (
        parse_patch,
        {
            "sub_tasks": [
                {"name": "n" * 129, "percent": 50, "remaining_time": True},
                {"name": "ok", "remaining_time": 2**31},
            ]
        },
        f"sub_tasks[0].name: must be a string of 1-128 characters. sub_tasks[0].remaining_time: {SECONDS}"
        f" sub_tasks[1].remaining_time: {SECONDS}",
        f"sub_tasks[0].name: 必须是 1-128 个字符的字符串。 sub_tasks[0].remaining_time: {SECONDS_ZH}"
        f" sub_tasks[1].remaining_time: {SECONDS_ZH}",
    ),
    (
        parse_job_list_query,
        {"status": "Done", "limit": "15", "offset": "x"},
        f"status: must be one of {STATUSES}. offset: must be an integer from 0 to 1000000000."
        " limit: must be one of 10, 20, 50.",
        f"status: 必须是以下之一：{STATUSES}。 offset: 必须是 0 到 1000000000 之间的整数。"
        " limit: 必须是以下之一：10, 20, 50。",
    ),
    (
        parse_job_list_query,
        {"job_name": "n" * 129, "job_id": "not-a-uuid"},
        f"job_name: must be at most 128 characters. job_id: {NOT_ID}",
        f"job_name: 最多 128 个字符。 job_id: {NOT_ID_ZH}",
    ),
    (
        parse_job_list_query,
        {"job_name": "a\x00b", "limit": "²"},
        "job_name: must not contain the NUL character. limit: must be an integer from 0 to 1000000000.",
        "job_name: 不能包含 NUL 字符。 limit: 必须是 0 到 1000000000 之间的整数。",
    ),
    (
        parse_job_list_query,
        {"start_time": "2026-01-02T00:00:00+0000", "end_time": "2026-01-01T00:00:00+0000"},
        "end_time: must not be earlier than start_time.",
        "end_time: 不能早于 start_time。",
    ),
    (
        parse_job_list_query,
        {"start_time": "yesterday", "end_time": "today", "offset": "-1", "limit": "12345678901"},
        f"start_time: {TIME} end_time: {TIME} offset: must be an integer from 0 to 1000000000."
        " limit: must be an integer from 0 to 1000000000.",
        f"start_time: {TIME_ZH} end_time: {TIME_ZH} offset: 必须是 0 到 1000000000 之间的整数。"
        " limit: 必须是 0 到 1000000000 之间的整数。",
    ),
    (
        parse_schedule_query,
        {"status": "Done", "limit": "0", "offset": "1000000001", "instance_id": "i" * 129},
        f"status: must be one of {STATUSES}. instance_id: must be at most 128 characters."
        " offset: must be an integer from 0 to 1000000000. limit: must be an integer from 1 to 100.",
        f"status: 必须是以下之一：{STATUSES}。 instance_id: 最多 128 个字符。"
        " offset: 必须是 0 到 1000000000 之间的整数。 limit: 必须是 1 到 100 之间的整数。",
    ),
    (
        parse_schedule_query,
        {"limit": "101", "job_id": "x", "job_name": "\x00"},
        f"job_id: {NOT_ID} job_name: must not contain the NUL character."
        " limit: must be an integer from 1 to 100.",
        f"job_id: {NOT_ID_ZH} job_name: 不能包含 NUL 字符。 limit: 必须是 1 到 100 之间的整数。",
    ),
    (
        parse_cancel_body,
        {},
        "job_ids: must be a non-empty list of job ids.",
        "job_ids: 必须是非空的任务ID列表。",
    ),
    (
        parse_cancel_body,
        {"job_ids": [], "extra": 1},
        "extra: unknown field; allowed fields are job_ids. job_ids: must be a non-empty list of job ids.",
        "extra: 未知字段；允许的字段为 job_ids。 job_ids: 必须是非空的任务ID列表。",
    ),
    (
        parse_cancel_body,
        {"job_ids": [A] * 101},
        "job_ids: at most 100 job ids per request.",
        "job_ids: 每次请求最多 100 个任务ID。",
    ),
    (
        parse_cancel_body,
        {"job_ids": [3, "not-a-uuid"]},
        f"job_ids[0]: must be a string. job_ids[1]: {NOT_ID}",
        f"job_ids[0]: 必须是字符串。 job_ids[1]: {NOT_ID_ZH}",
    ),
]


@pytest.mark.parametrize(
    ("parse", "given", "english", "chinese"),
    CASES,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(CASES)],
)
def test_a_refused_request_is_answered_in_full_in_both_languages(
    parse: Callable[[Any], object], given: Any, english: str, chinese: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse(given)
    assert caught.value.message() == f"Parameter error. {english}"
    assert caught.value.message("zh-cn") == f"参数错误。 {chinese}"


def test_a_valid_new_job_keeps_every_field() -> None:
    body = {
        "project_id": "p_1-x",
        "name": "CreateInstance.v2",
        "instance": {"id": "i-1", "name": "db"},
        "entities": {"k": [1, {"n": None}]},
        "idempotency_key": "key-1",
        "start_time": "2026-01-31T08:00:00+0800",
        "params": {"flavor": "small"},
    }
    assert parse_new_job(body) == NewJob(
        project_id="p_1-x",
        name="CreateInstance.v2",
        status=JobStatus.PENDING,
        instance=Instance("i-1", "db"),
        entities={"k": [1, {"n": None}]},
        idempotency_key="key-1",
        run_at=datetime(2026, 1, 31, 0, 0, tzinfo=UTC),
        params={"flavor": "small"},
    )
    # The defaults: Running, no instance, empty entities and params, no key, no start.
    assert parse_new_job({"project_id": "p", "name": "n", "instance": {"id": "i"}}) == NewJob(
        project_id="p",
        name="n",
        status=JobStatus.RUNNING,
        instance=Instance("i", ""),
        entities={},
        idempotency_key=None,
        run_at=None,
        params={},
    )
    assert parse_new_job({**JOB, "status": "Pending"}).status is JobStatus.PENDING


def test_a_valid_patch_keeps_every_field_and_the_edges_of_each_range() -> None:
    body = {
        "status": "Failed",
        "process": "60%",
        "sub_tasks": [
            {"name": "a", "percent": 0, "status": "Running", "remaining_time": 0},
            {"name": "b" * 128, "percent": "100", "remaining_time": 2**31 - 1},
            {"name": "c"},
        ],
        "entities": {"x": 1},
        "fail_reason": "r" * 4096,
    }
    assert parse_patch(body) == JobPatch(
        status=JobStatus.FAILED,
        progress=60,
        sub_tasks=(
            SubTask("a", 0, "Running", 0),
            SubTask("b" * 128, 100, "Pending", 2**31 - 1),
            SubTask("c", 0, "Pending", None),
        ),
        entities={"x": 1},
        fail_reason="r" * 4096,
    )
    assert parse_patch({"process": 0}) == JobPatch(progress=0)
    assert parse_patch({"process": "100%"}) == JobPatch(progress=100)
    assert (
        parse_patch({"sub_tasks": [{"name": "s"}] * 100}).sub_tasks
        == (SubTask("s", 0, "Pending", None),) * 100
    )


def test_a_job_list_query_keeps_every_filter_and_its_page() -> None:
    query = {
        "status": "Completed",
        "job_name": "n" * 128,
        "job_id": A,
        "start_time": "2026-01-01T00:00:00+0000",
        "end_time": "2026-01-01T00:00:00+0000",
        "offset": "3",
        "limit": "50",
    }
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_job_list_query(query) == (
        JobFilter(JobStatus.COMPLETED, "n" * 128, A, instant, instant),
        Page(3, 50),
    )
    assert parse_job_list_query({}) == (JobFilter(), Page(1, 10))
    # Offset 0 is the first page too; the largest page number is accepted.
    assert parse_job_list_query({"offset": "0", "limit": "20"})[1] == Page(1, 20)
    assert parse_job_list_query({"offset": "1000000000"})[1] == Page(10**9, 10)
    assert Page(3, 50).offset == 100


def test_a_schedule_query_keeps_every_filter_offset_and_limit() -> None:
    query = {
        "status": "Pending",
        "job_id": A,
        "job_name": "n",
        "instance_id": "i" * 128,
        "start_time": "2026-01-01T00:00:00+0000",
        "end_time": "2026-01-02T00:00:00+0000",
        "offset": "1000000000",
        "limit": "1",
    }
    assert parse_schedule_query(query) == (
        ScheduleFilter(
            JobStatus.PENDING,
            A,
            "n",
            "i" * 128,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 2, tzinfo=UTC),
        ),
        10**9,
        1,
    )
    assert parse_schedule_query({}) == (ScheduleFilter(), 0, 100)
    assert parse_schedule_query({"limit": "100"})[2] == 100


def test_cancel_takes_each_id_once_in_the_order_given() -> None:
    assert parse_cancel_body({"job_ids": [B, A, B]}) == [B, A]
    assert parse_cancel_body({"job_ids": [A] * 100}) == [A]
