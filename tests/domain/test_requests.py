"""What the door refuses before anything is stored, the same way for every store."""

from __future__ import annotations

import orjson
import pytest

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.requests import (
    MAX_JSON_DEPTH,
    parse_body,
    parse_job_list_query,
    parse_new_job,
    parse_patch,
    parse_schedule_query,
)
from taskcenter.domain.wire import parse_time


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


def test_a_bad_request_names_every_wrong_field_at_once() -> None:
    body = {"project_id": "bad project!", "name": "9x", "status": "Done", "entities": [], "params": 3}
    with pytest.raises(InvalidParameter) as caught:
        parse_new_job(body)
    message = caught.value.message()
    for field in ("project_id:", "name:", "status:", "entities:", "params:"):
        assert field in message, (field, message)


def test_messages_are_whole_in_chinese() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_new_job({"name": "x", "start_time": "tomorrow", "bogus": 1})
    chinese = caught.value.message("zh-cn")
    assert chinese.startswith("参数错误。")
    # Field names stay as they are; every reason is Chinese, no English sentence is left over.
    for english in ("is required", "unknown field", "expected", "must"):
        assert english not in chinese, chinese
    assert "project_id: 必填。" in chinese and "bogus: 未知字段" in chinese


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"auth": {"identity": {"password": {"user": {"name": "ro\u0000ot"}}}}},
            "auth.identity.password.user.name",
        ),
        ({"entities": {"a": ["x", "y\u0000"]}}, "entities.a[1]"),
        ({"entities": {"k\u0000": 1}}, "entities.k\\x00"),
        ({"fail_reason": "\u0000"}, "fail_reason"),
        ({"sub_tasks": [{"name": "a\u0000b"}]}, "sub_tasks[0].name"),
    ],
)
def test_nul_is_refused_anywhere_in_a_body_naming_where(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_body(orjson.dumps(body))
    message = caught.value.message()
    assert f"{field}: " in message and "NUL" in message, message
    assert "\x00" not in message  # the message itself never carries the character


def test_json_deeper_than_the_limit_is_refused_and_the_limit_itself_is_kept() -> None:
    parse_body(orjson.dumps({"entities": nested(MAX_JSON_DEPTH - 2)}))
    for depth in (MAX_JSON_DEPTH, 300, 1000, 1025, 10_000):  # past 1024, orjson refuses it
        with pytest.raises(InvalidParameter, match=f"nests deeper than {MAX_JSON_DEPTH}"):
            parse_body(orjson.dumps({"entities": nested(depth)}) if depth < 250 else _deep_raw(depth))


def _deep_raw(depth: int) -> bytes:
    # orjson cannot write more than 255 levels, so deep documents are written by hand.
    return b'{"entities":' + b'{"k":' * depth + b"1" + b"}" * depth + b"}"


def test_a_thousand_problems_make_a_readable_message() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_body(orjson.dumps({"entities": {f"k{i}": "\u0000" for i in range(1000)}}))
    message = caught.value.message()
    assert "and 980 more problems" in message and len(message) < 2000


@pytest.mark.parametrize("digits", ["\u00b2", "\u0661", "\uff11", "1\u00b2", " 1", "+1", "1e3"])
def test_only_ascii_digits_are_numbers(digits: str) -> None:
    with pytest.raises(InvalidParameter, match="offset"):
        parse_job_list_query({"offset": digits})
    with pytest.raises(InvalidParameter, match="offset"):
        parse_schedule_query({"offset": digits})


def test_offset_zero_is_the_first_page_of_immediate_jobs() -> None:
    _, page = parse_job_list_query({"offset": "0"})
    assert page.number == 1 and page.offset == 0


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+0000", "1969-12-31T23:59:59+0000", "9999-12-31T23:59:59-0100"]
)
def test_times_outside_1970_to_9999_are_refused(value: str) -> None:
    with pytest.raises(InvalidParameter, match="start_time: must be between 1970 and 9999"):
        parse_time("start_time", value)
    with pytest.raises(InvalidParameter, match="start_time"):
        parse_new_job({"project_id": "p", "name": "X", "start_time": value})


@pytest.mark.parametrize(
    ("query", "field"),
    [({"job_name": "a\u0000"}, "job_name"), ({"instance_id": "\u0000"}, "instance_id")],
)
def test_nul_in_a_query_is_refused(query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidParameter, match=f"{field}: must not contain the NUL"):
        parse_schedule_query(query)


def test_a_patch_checks_every_sub_task() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_patch(
            {"sub_tasks": [{"name": ""}, {"name": "b", "percent": 101}, {"name": "c", "status": "?"}]}
        )
    message = caught.value.message()
    assert "sub_tasks[0].name" in message and "sub_tasks[1].percent" in message
    assert "sub_tasks[2].status" in message
