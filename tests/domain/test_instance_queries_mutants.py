"""The instance and backup lists' filters: every refusal word for word, every valid query whole.

Written against the mutants that scripts/mutation found surviving in domain/instance_queries.py
(messages emptied, a filter dropped or inverted, a bound moved by one): a client reads these
answers as they are, and a filter lost between the query and the store answers the wrong list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.instance_queries import (
    BackupFilter,
    InstanceFilter,
    TextMatch,
    parse_backup_query,
    parse_instance_query,
)

TIME = "expected yyyy-mm-ddThh:mm:ssZ with a numeric offset, such as 2026-01-31T08:00:00+0000."
TIME_ZH = "格式应为 yyyy-mm-ddThh:mm:ssZ（数字时区偏移），例如 2026-01-31T08:00:00+0000。"
IP = "must be an IPv4 address such as 192.168.0.10."
IP_ZH = "必须是 IPv4 地址，例如 192.168.0.10。"
STAR = "must not be only '*' ('*text' matches names containing text)."
STAR_ZH = "不能只包含 '*'（'*文本' 表示模糊匹配）。"
TAGS = "tags: must be key=value pairs separated by commas, such as env=prod,team=db."
TAGS_ZH = "tags: 必须是以逗号分隔的 key=value 键值对，例如 env=prod,team=db。"
OFFSET = "offset: must be an integer from 0 to 1000000000."
OFFSET_ZH = "offset: 必须是 0 到 1000000000 之间的整数。"
LIMIT = "limit: must be an integer from 1 to 100."
LIMIT_ZH = "limit: 必须是 1 到 100 之间的整数。"
NOT_BACKUP = "backup_id: not a backup id (1-64 letters, digits, '-' or '_')."
NOT_BACKUP_ZH = "backup_id: 不是合法的备份ID（1-64 个字母、数字、'-' 或 '_'）。"
INSTANCE_ID = "0123456789abcdef0123456789abcdefin07"

CASES: list[tuple[Callable[[dict[str, str]], object], dict[str, str], str, str]] = [
    (
        parse_instance_query,
        {
            "type": "Single",
            "datastore_type": "mysql",
            "private_ip": "10.0.0.300",
            "limit": "0",
            "offset": "-1",
        },
        f"type: must be one of Cluster. datastore_type: must be one of gaussdb-mysql. private_ip: {IP}"
        f" {OFFSET} {LIMIT}",
        f"type: 必须是以下之一：Cluster。 datastore_type: 必须是以下之一：gaussdb-mysql。 private_ip: {IP_ZH}"
        f" {OFFSET_ZH} {LIMIT_ZH}",
    ),
    (
        parse_instance_query,
        {"id": "*", "name": "**", "vpc_id": "v" * 129, "subnet_id": "a\x00"},
        f"id: {STAR} name: {STAR} vpc_id: must be at most 128 characters."
        " subnet_id: must not contain the NUL character.",
        f"id: {STAR_ZH} name: {STAR_ZH} vpc_id: 最多 128 个字符。 subnet_id: 不能包含 NUL 字符。",
    ),
    (parse_instance_query, {"tags": "env"}, TAGS, TAGS_ZH),
    (parse_instance_query, {"tags": "=prod"}, TAGS, TAGS_ZH),
    (parse_instance_query, {"tags": "team=db,env"}, TAGS, TAGS_ZH),
    (
        parse_instance_query,
        {"tags": "env=a,env=b"},
        "tags: the key env appears twice; each key may appear once.",
        "tags: 键 env 出现了两次；每个键只能出现一次。",
    ),
    (
        parse_instance_query,
        {"tags": ",".join(f"k{i}=v" for i in range(21))},
        "tags: must be at most 20 items.",
        "tags: 最多 20 项。",
    ),
    (
        parse_instance_query,
        {"readonly_private_ip": "x", "proxy_ip": "1.2.3"},
        f"readonly_private_ip: {IP} proxy_ip: {IP}",
        f"readonly_private_ip: {IP_ZH} proxy_ip: {IP_ZH}",
    ),
    (parse_instance_query, {"limit": "101"}, LIMIT, LIMIT_ZH),
    (
        parse_backup_query,
        {"backup_id": "b" * 65, "backup_type": "full", "begin_time": "x", "end_time": "y"},
        f"{NOT_BACKUP} backup_type: must be one of auto, manual. begin_time: {TIME} end_time: {TIME}",
        f"{NOT_BACKUP_ZH} backup_type: 必须是以下之一：auto, manual。"
        f" begin_time: {TIME_ZH} end_time: {TIME_ZH}",
    ),
    (
        parse_backup_query,
        {
            "begin_time": "2026-01-01T00:00:00+0000",
            "end_time": "2026-01-01T00:00:00+0000",
            "name": "n" * 129,
            "instance_name": "\x00",
        },
        "end_time: must be later than begin_time. name: must be at most 128 characters."
        " instance_name: must not contain the NUL character.",
        "end_time: 必须晚于 begin_time。 name: 最多 128 个字符。 instance_name: 不能包含 NUL 字符。",
    ),
    (
        parse_backup_query,
        {"backup_id": "a b", "offset": "1000000001", "limit": "0"},
        f"{NOT_BACKUP} {OFFSET} {LIMIT}",
        f"{NOT_BACKUP_ZH} {OFFSET_ZH} {LIMIT_ZH}",
    ),
]


@pytest.mark.parametrize(
    ("parse", "query", "english", "chinese"),
    CASES,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(CASES)],
)
def test_a_refused_list_query_is_answered_in_full_in_both_languages(
    parse: Callable[[dict[str, str]], object], query: dict[str, str], english: str, chinese: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse(query)
    assert caught.value.message() == f"Parameter error. {english}"
    assert caught.value.message("zh-cn") == f"参数错误。 {chinese}"


def test_an_instance_query_keeps_every_filter_and_its_page() -> None:
    query = {
        "id": "*abc",
        "name": "db1",
        "vpc_id": "v",
        "subnet_id": "s",
        "tags": "env=prod,team=",
        "private_ip": "127.0.0.1",
        "type": "Cluster",
        "datastore_type": "GaussDB-MySQL",
        "offset": "1000000000",
        "limit": "1",
    }
    assert parse_instance_query(query) == (
        InstanceFilter(
            id=TextMatch("abc", contains=True),
            name=TextMatch("db1"),
            vpc_id="v",
            subnet_id="s",
            tags=(("env", "prod"), ("team", "")),
            with_address=True,
            impossible=False,
        ),
        10**9,
        1,
    )
    assert parse_instance_query({}) == (InstanceFilter(), 0, 100)
    assert parse_instance_query({"limit": "100", "tags": ",".join(f"k{i}=v" for i in range(20))})[2] == 100


@pytest.mark.parametrize(
    ("query", "with_address"),
    [
        ({"private_ip": "10.0.0.1"}, True),  # another write address than the one every instance has
        ({"readonly_private_ip": "127.0.0.1"}, False),  # no instance has a read-only address
        ({"proxy_ip": "127.0.0.1"}, False),  # nor a proxy
    ],
)
def test_an_address_no_instance_has_asks_for_an_empty_list(query: dict[str, str], with_address: bool) -> None:
    assert parse_instance_query(query) == (InstanceFilter(with_address=with_address, impossible=True), 0, 100)


def test_a_backup_query_keeps_every_filter_and_its_page() -> None:
    query = {
        "instance_id": INSTANCE_ID,
        "backup_id": "b_1-2",
        "backup_type": "manual",
        "begin_time": "2026-01-01T00:00:00+0000",
        "end_time": "2026-01-01T00:00:01+0000",
        "name": "n",
        "instance_name": "i",
        "offset": "3",
        "limit": "100",
    }
    assert parse_backup_query(query) == (
        BackupFilter(
            instance_id=INSTANCE_ID,
            backup_id="b_1-2",
            name="n",
            instance_name="i",
            begin_time=datetime(2026, 1, 1, tzinfo=UTC),
            end_time=datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
            impossible=False,
        ),
        3,
        100,
    )
    assert parse_backup_query({}) == (BackupFilter(), 0, 100)
    # Every backup here is manual: asking for automatic ones is an empty list, not an error.
    assert parse_backup_query({"backup_type": "auto"}) == (BackupFilter(impossible=True), 0, 100)
