"""What the instance APIs refuse before anything is stored: every field typed, every problem at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.instance import DbInstance, native_password_hash, utc_offset
from taskcenter.domain.instance_requests import (
    CreateInstance,
    Grant,
    NewDatabase,
    Tag,
    parse_create,
    parse_create_backup,
    parse_databases,
    parse_flavor_query,
    parse_password,
    parse_resize,
    parse_restart,
    parse_users,
)

PASSWORD = "Tc-Passw0rd!"


def minimal(**changes: Any) -> dict[str, Any]:
    """The smallest create body the API reference allows (the README shows the same one)."""
    body: dict[str, Any] = {
        "name": "orders-db",
        "region": "local",
        "datastore": {"type": "gaussdb-mysql", "version": "8.0"},
        "mode": "Cluster",
        "flavor_ref": "gaussdb.mysql.small.x86.2",
        "vpc_id": "vpc-local",
        "subnet_id": "subnet-local",
        "password": PASSWORD,
        "availability_zone_mode": "single",
        "slave_count": 0,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def refusal(parse: Callable[[dict[str, Any]], object], body: dict[str, Any]) -> InvalidParameter:
    with pytest.raises(InvalidParameter) as caught:
        parse(body)
    return caught.value


def problems_of(error: InvalidParameter) -> dict[str, str]:
    """field -> English reason, from the one message that lists them all."""
    found = re.findall(r"(\S+): (.*?)(?= \S+: |$)", error.message().removeprefix("Parameter error. "))
    return dict(found)


def assert_whole_chinese(error: InvalidParameter) -> None:
    chinese = error.message("zh-cn")
    assert chinese.startswith("参数错误。")
    for english in (" must ", "is required", "unknown field", " the ", "local driver"):
        assert english not in chinese, chinese


# ---- create


def test_the_minimal_body_creates_with_the_clouds_defaults() -> None:
    create = parse_create(minimal())
    assert create.name == "orders-db" and create.flavor.spec_code == "gaussdb.mysql.small.x86.2"
    recorded = create.recorded()
    # charge_info is optional in the API reference: pay-per-use, the cloud's default.
    assert recorded["charge_info"] == {"charge_mode": "postPaid"}
    assert recorded["time_zone"] == "UTC" and recorded["lower_case_table_names"] == 1
    assert recorded["tags"] == [] and recorded["enable_binlog"] is False
    assert "backup_strategy" not in recorded and "security_group_id" not in recorded
    assert PASSWORD not in str(recorded) and create.password_hash == native_password_hash(PASSWORD)
    assert PASSWORD not in repr(create)  # a request logged or in a traceback shows no password


def test_every_optional_field_of_the_model_is_taken_and_recorded() -> None:
    create = parse_create(
        minimal(
            charge_info={"charge_mode": "postPaid"},
            security_group_id="sg-1",
            configuration_id="conf-1",
            enterprise_project_id="0",
            master_availability_zone="local",
            backup_strategy={"start_time": "23:00-00:00", "keep_days": "7"},
            time_zone="UTC-05:00",
            lower_case_table_names=0,
            enable_binlog=True,
            tags=[
                {"key": "env", "value": "prod"},
                {"key": "团队", "value": ""},
                {"key": "k-2_", "value": "v.1"},
            ],
            datastore={"type": "gaussdb-mysql", "version": "8.0.22", "kernel_version": "2.0.28.1"},
            tde_info={"enable_tde": False},
            dedicated_resource_id="",
        )
    )
    assert create.tags == (Tag("env", "prod"), Tag("团队", ""), Tag("k-2_", "v.1"))
    recorded = create.recorded()
    assert recorded["backup_strategy"] == {"start_time": "23:00-00:00", "keep_days": "7"}
    assert recorded["tags"][1] == {"key": "团队", "value": ""}
    assert (recorded["time_zone"], recorded["lower_case_table_names"], recorded["enable_binlog"]) == (
        "UTC-05:00", 0, True,
    )  # fmt: skip
    assert recorded["security_group_id"] == "sg-1" and recorded["master_availability_zone"] == "local"


def test_a_create_lacking_several_fields_names_them_all_at_once() -> None:
    error = refusal(parse_create, {"name": "orders-db", "region": "", "tags": {}})
    found = problems_of(error)
    for field in ("datastore", "mode", "flavor_ref", "password", "vpc_id", "subnet_id",
                  "availability_zone_mode", "slave_count", "region", "tags"):  # fmt: skip
        assert field in found, (field, error.message())
    assert found["region"] == "must not be empty."
    assert "charge_info" not in found and "backup_strategy" not in found  # optional in the reference
    assert_whole_chinese(error)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"region": ""}, "region", "must not be empty"),
        ({"region": "   "}, "region", "must not be empty"),
        ({"vpc_id": ""}, "vpc_id", "must not be empty"),
        ({"region": 7}, "region", "must be a string"),
        ({"name": 12345}, "name", "4-64 characters"),
        ({"name": "x"}, "name", "4-64 characters"),
        ({"name": "数" * 22}, "name", "at most 64 bytes"),
        ({"password": "weakpassword"}, "password", "at least three"),
        ({"password": "Tc-Passw0rd!\u00e9"}, "password", "no other characters"),
        ({"flavor_ref": "gaussdb.mysql.huge"}, "flavor_ref", "must be one of"),
        ({"mode": "Serverless"}, "mode", "must be one of Cluster, StandSingle"),
        ({"datastore": "gaussdb-mysql"}, "datastore", "must be an object"),
        ({"datastore": {"type": "mysql", "version": "8.0"}}, "datastore.type", "one of gaussdb-mysql"),
        ({"datastore": {"type": "gaussdb-mysql"}}, "datastore.version", "is required"),
        ({"availability_zone_mode": "triple"}, "availability_zone_mode", "single, multi"),
        ({"slave_count": ...}, "slave_count", "is required"),
        ({"slave_count": True}, "slave_count", "integer from 0 to 9"),
        ({"slave_count": "0"}, "slave_count", "integer from 0 to 9"),
        ({"slave_count": 10}, "slave_count", "integer from 0 to 9"),
        ({"slave_count": 2}, "slave_count", "cannot create read replicas"),
        ({"slave_count": 1, "mode": "StandSingle"}, "slave_count", "must be 0 for a StandSingle"),
        (
            {"charge_info": {"charge_mode": "prePaid", "period_type": "month", "period_num": 1}},
            "charge_info.charge_mode",
            "pay-per-use",
        ),
        ({"charge_info": {}}, "charge_info.charge_mode", "is required"),
        ({"charge_info": "postPaid"}, "charge_info", "must be an object"),
        ({"charge_info": {"charge_mode": "postPaid", "period_num": "1"}}, "charge_info.period_num", "1 to 9"),
        ({"backup_strategy": {"start_time": "garbage"}}, "backup_strategy.start_time", "hh:00-HH:00"),
        ({"backup_strategy": {"start_time": "08:00-10:00"}}, "backup_strategy.start_time", "one hour after"),
        ({"backup_strategy": {"start_time": "08:30-09:30"}}, "backup_strategy.start_time", "hh:00-HH:00"),
        ({"backup_strategy": {"start_time": "24:00-01:00"}}, "backup_strategy.start_time", "hh:00-HH:00"),
        ({"backup_strategy": {"start_time": "０8:00-09:00"}}, "backup_strategy.start_time", "hh:00-HH:00"),
        ({"backup_strategy": {}}, "backup_strategy.start_time", "is required"),
        (
            {"backup_strategy": {"start_time": "08:00-09:00", "keep_days": "0"}},
            "backup_strategy.keep_days",
            "1 to 732",
        ),
        (
            {"backup_strategy": {"start_time": "08:00-09:00", "keep_days": True}},
            "backup_strategy.keep_days",
            "1 to 732",
        ),
        ({"time_zone": "garbage"}, "time_zone", "UTC+08:00"),
        ({"time_zone": "UTC+13:00"}, "time_zone", "UTC-12:00 to UTC+12:00"),
        ({"time_zone": "UTC+08:30"}, "time_zone", "UTC+hh:00"),
        ({"time_zone": "UTC+０８:00"}, "time_zone", "UTC+hh:00"),
        ({"time_zone": "Asia/Shanghai"}, "time_zone", "UTC+hh:00"),
        ({"time_zone": 8}, "time_zone", "must be a string"),
        ({"lower_case_table_names": 2}, "lower_case_table_names", "must be 0"),
        ({"lower_case_table_names": True}, "lower_case_table_names", "must be 0"),
        ({"lower_case_table_names": "1"}, "lower_case_table_names", "must be 0"),
        ({"enable_binlog": "true"}, "enable_binlog", "must be a boolean"),
        ({"tags": [{"key": "a b", "value": "v"}]}, "tags[0].key", "1-36 letters"),
        ({"tags": [{"key": "", "value": "v"}]}, "tags[0].key", "1-36 letters"),
        ({"tags": [{"key": "k" * 37, "value": "v"}]}, "tags[0].key", "1-36 letters"),
        ({"tags": [{"value": "v"}]}, "tags[0].key", "1-36 letters"),
        ({"tags": [{"key": "k", "value": "v" * 44}]}, "tags[0].value", "at most 43"),
        ({"tags": [{"key": "k", "value": "a/b"}]}, "tags[0].value", "at most 43"),
        ({"tags": [{"key": "k", "value": 1}]}, "tags[0].value", "at most 43"),
        ({"tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}, "tags[1].key", "repeats"),
        ({"tags": [{"key": f"k{i}", "value": ""} for i in range(21)]}, "tags", "at most 20 items"),
        ({"tags": ["env=prod"]}, "tags[0]", "must be an object"),
        ({"tags": [{"key": "k", "value": "v", "extra": 1}]}, "tags[0].extra", "unknown field"),
        (
            {"restore_point": {"source_instance_id": "abc", "type": "timestamp", "restore_time": 1}},
            "restore_point.type",
            "point-in-time",
        ),
        ({"restore_point": {"source_instance_id": "abc"}}, "restore_point.backup_id", "is required"),
        ({"restore_point": {"backup_id": "b1"}}, "restore_point.source_instance_id", "is required"),
        (
            {"restore_point": {"source_instance_id": "a b", "backup_id": "b1"}},
            "restore_point.source_instance_id",
            "not an instance id",
        ),
        ({"tde_info": {"enable_tde": True}}, "tde_info.enable_tde", "does not encrypt"),
        ({"volume": {"size": "40"}}, "volume", "yearly/monthly"),
        ({"volume_auto_expand": {"limit_size": 40}}, "volume_auto_expand", "no volume"),
        ({"dedicated_resource_id": "pool-1"}, "dedicated_resource_id", "dedicated resource pools"),
        ({"port": 3306}, "port", "unknown field"),
    ],
)
def test_create_refuses_what_the_cloud_refuses_or_the_local_driver_cannot_honour(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    error = refusal(parse_create, minimal(**changes))
    found = problems_of(error)
    assert field in found and reason in found[field], error.message()
    assert_whole_chinese(error)


def test_backup_windows_the_cloud_allows() -> None:
    for window in ("00:00-01:00", "08:00-09:00", "23:00-00:00"):
        create = parse_create(minimal(backup_strategy={"start_time": window, "keep_days": 732}))
        assert create.backup_strategy is not None and create.backup_strategy.start_time == window


def test_time_zones_in_the_clouds_format_map_to_server_offsets() -> None:
    assert [utc_offset(z) for z in ("UTC", "UTC+08:00", "UTC-12:00", "UTC+12:00", "UTC-00:00")] == [
        "+00:00", "+08:00", "-12:00", "+12:00", "-00:00",
    ]  # fmt: skip
    refused = ("UTC+13:00", "utc+08:00", "UTC+8:00", "+08:00", "UTC+08:00 ")
    assert [utc_offset(z) for z in refused] == [None] * len(refused)


def test_an_instance_applies_the_server_options_recorded_with_it() -> None:
    def instance(request: dict[str, Any]) -> DbInstance:
        now = datetime.now(UTC)
        return DbInstance("i", "p", "n", "normal", "gaussdb.mysql.small.x86.2", now, now, 3306, request)

    created = instance(parse_create(minimal(time_zone="UTC+08:00", enable_binlog=True)).recorded())
    assert (created.utc_offset, created.lower_case_table_names, created.binlog) == ("+08:00", 1, True)
    # Recorded before these were kept (or kept unchecked): the server keeps what it was set up with.
    legacy = instance({"time_zone": "garbage"})
    assert (legacy.utc_offset, legacy.lower_case_table_names, legacy.binlog) == (None, None, False)


# ---- every parser: any JSON value in any field is a 400 naming it, never an exception


JSON_VALUES: list[Any] = [None, True, 0, -1, 1.5, "", "x", [], [1], [None], {}, {"a": 1}, [{}], [[]]]
PARSERS: list[tuple[Callable[[dict[str, Any]], object], dict[str, Any]]] = [
    (parse_create, minimal(restore_point={"source_instance_id": "abc", "backup_id": "b1"},
                           tags=[{"key": "k", "value": "v"}], backup_strategy={"start_time": "08:00-09:00"},
                           charge_info={"charge_mode": "postPaid"}, tde_info={"enable_tde": False})),
    (parse_restart, {"delay": True}),
    (parse_resize, {"resize_flavor": {"spec_code": "gaussdb.mysql.large.x86.4"}, "delay": False}),
    (parse_create_backup, {"instance_id": "abc", "name": "nightly-1", "description": "d"}),
    (parse_databases, {"databases": [{"name": "shop", "character_set": "utf8mb4", "comment": "c",
                                      "users": [{"name": "app", "host": "%", "readonly": True}]}]}),
    (parse_users, {"users": [{"name": "app", "password": "App-Passw0rd", "hosts": ["10.0.0.%"],
                              "databases": [{"name": "shop", "readonly": False}]}]}),
    (parse_password, {"password": PASSWORD}),
]  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: each key and list index, nested."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = _replaced(document[path[0]], path[1:], value)
    return copy


@pytest.mark.parametrize(("parse", "valid"), PARSERS, ids=lambda p: getattr(p, "__name__", ""))
def test_any_json_value_anywhere_is_answered_and_never_raises_anything_else(
    parse: Callable[[dict[str, Any]], object], valid: dict[str, Any]
) -> None:
    parse(valid)  # the base body is good
    for path in _paths(valid):
        for value in JSON_VALUES:
            body = _replaced(valid, path, value)
            try:
                parse(body)
            except InvalidParameter as exc:
                top = str(path[0])
                assert top in exc.message() or "unknown field" in exc.message(), (path, value, exc.message())


# ---- the operations


def test_the_bodies_that_answered_500_name_the_wrong_field() -> None:
    users = {"users": [{"name": "u1", "password": "App-Passw0rd", "databases": True}]}
    assert problems_of(refusal(parse_users, users)) == {"users[0].databases": "must be a list."}
    databases = {"databases": [{"name": "shop", "character_set": "utf8mb4", "users": 1}]}
    assert problems_of(refusal(parse_databases, databases)) == {"databases[0].users": "must be a list."}


def test_databases_are_typed_and_every_problem_is_listed() -> None:
    good = parse_databases(
        {"databases": [{"name": "shop", "character_set": "utf8mb4", "users": [{"name": "app"}]}]}
    )
    assert good == (NewDatabase("shop", "utf8mb4", "", (Grant("app", "%", False),)),)
    error = refusal(
        parse_databases,
        {
            "databases": [
                {"name": "shop", "character_set": "utf8mb4"},
                {"name": "shop", "character_set": "utf8 mb4", "comment": "it's",
                 "users": [{"name": "a-b", "host": "999.1.1.1", "readonly": "false"}, None]},
            ],
        },
    )  # fmt: skip
    assert set(problems_of(error)) == {
        "databases[1].name", "databases[1].character_set", "databases[1].comment",
        "databases[1].users[0].name", "databases[1].users[0].host", "databases[1].users[0].readonly",
        "databases[1].users[1]",
    }  # fmt: skip
    assert_whole_chinese(error)
    assert "databases" in problems_of(refusal(parse_databases, {"databases": []}))
    assert "databases" in problems_of(refusal(parse_databases, {}))


def test_users_are_typed_their_passwords_kept_only_as_hashes() -> None:
    (user,) = parse_users(
        {"users": [{"name": "app", "password": "App-Passw0rd", "hosts": ["10.0.0.%", "%"],
                    "databases": [{"name": "shop", "readonly": True}]}]}
    )  # fmt: skip
    assert user.password_hash == native_password_hash("App-Passw0rd")
    assert user.grants() == {
        "name": "app", "hosts": ["10.0.0.%", "%"], "databases": [{"name": "shop", "readonly": True}],
    }  # fmt: skip
    assert parse_users({"users": [{"name": "app", "password": "App-Passw0rd"}]})[0].hosts == ("%",)
    error = refusal(
        parse_users,
        {
            "users": [
                {"name": "app", "password": "App-Passw0rd"},
                {"name": "app", "password": "App-Passw0rd"},
                {"name": "Same_Pass1", "password": "Same_Pass1", "hosts": "%", "comment": "ops"},
                {
                    "name": "x",
                    "password": "App-Passw0rd",
                    "hosts": ["1.2.3.4 "],
                    "databases": [{"readonly": 1}],
                },
            ]
        },
    )
    assert set(problems_of(error)) == {
        "users[1].name", "users[2].password", "users[2].hosts", "users[2].comment",
        "users[3].hosts[0]", "users[3].databases[0].name", "users[3].databases[0].readonly",
    }  # fmt: skip
    assert_whole_chinese(error)


def test_restart_resize_backup_and_password_bodies() -> None:
    assert parse_restart({}).delay is False and parse_restart({"delay": True}).delay is True
    assert set(problems_of(refusal(parse_restart, {"delay": "yes", "force": 1}))) == {"delay", "force"}
    resize = parse_resize(
        {"resize_flavor": {"spec_code": "gaussdb.mysql.large.x86.4"}, "is_auto_pay": "true"}
    )
    assert resize.flavor.spec_code == "gaussdb.mysql.large.x86.4" and resize.delay is False
    assert set(problems_of(refusal(parse_resize, {"delay": 1}))) == {"resize_flavor", "delay"}
    assert set(problems_of(refusal(parse_resize, {"resize_flavor": []}))) == {"resize_flavor"}
    assert set(problems_of(refusal(parse_resize, {"resize_flavor": {"spec_code": "big"}}))) == {
        "resize_flavor.spec_code"
    }
    backup = parse_create_backup({"instance_id": "abc", "name": "nightly-1"})
    assert (backup.instance_id, backup.name, backup.description) == ("abc", "nightly-1", "")
    error = refusal(parse_create_backup, {"instance_id": "a/b", "name": "n", "description": "<b>"})
    assert set(problems_of(error)) == {"instance_id", "name", "description"}
    assert_whole_chinese(error)
    assert parse_password({"password": PASSWORD}) == PASSWORD
    assert set(problems_of(refusal(parse_password, {"password": "short", "old": "x"}))) == {"password", "old"}


def test_flavor_queries() -> None:
    assert parse_flavor_query("GaussDB-MySQL", {"availability_zone_mode": "Single"}) is None
    spec = parse_flavor_query("gaussdb-mysql", {"availability_zone_mode": "multi", "spec_code": "s"})
    assert spec == "s"
    with pytest.raises(InvalidParameter) as caught:
        parse_flavor_query("mysql", {"spec_code": "\u0000"})
    assert set(problems_of(caught.value)) == {"database_name", "availability_zone_mode", "spec_code"}


def test_a_created_instance_request_is_immutable_and_typed() -> None:
    create = parse_create(minimal())
    assert isinstance(create, CreateInstance)
    with pytest.raises(AttributeError):
        create.name = "other"  # type: ignore[misc]
