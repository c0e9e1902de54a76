"""Validation of what clients send to the TaurusDB instance APIs, beside the job validators.

Each body is checked whole, every field of it typed and bounded as the official SDK's models and
the public API reference define it, and every problem is reported at once, in English and in
Chinese (``Problems``). What comes out is a typed request: the API layer hands it on to the store
and the job and never reads the raw body again. A value the cloud accepts but the local driver
cannot honour (a read replica, a yearly subscription, encryption at rest) is refused with the
reason, never accepted and dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from taskcenter.domain.instance import (
    DATASTORE,
    DEFAULT_LOWER_CASE_TABLE_NAMES,
    DEFAULT_TIME_ZONE,
    ENGINE_VERSION,
    FLAVORS,
    Flavor,
    native_password_hash,
    parse_instance_id,
    utc_offset,
)
from taskcenter.domain.problems import Problems
from taskcenter.domain.requests import _string, _unknown_fields, check_text

MAX_TEXT = 128  # ids and names the cloud hands out (region, vpc_id, ...): echoed back, so bounded
MAX_TAGS = 20  # a TaurusDB instance holds at most 20 tags
MAX_DATABASES = 100
MAX_USERS = 50  # users per request, users granted per database, hosts per user (the models say 50)
MAX_COMMENT = 512
MAX_DESCRIPTION = 256

# The names the models define: letters, digits, '-', '_' and Chinese (U+4E00-U+9FFF), from a letter.
_NAME = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff_\-]*")
_SPECIALS = frozenset("~!@#$%^*-_=+?,()&")
_DB_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_USER_NAME = re.compile(r"[A-Za-z0-9_]{1,32}")
_CHARSET = re.compile(r"[a-z0-9_]{1,32}")
_HOST = re.compile(r"%|(?:[0-9]{1,3}|%)(?:\.(?:[0-9]{1,3}|%)){3}")
_FORBIDDEN = frozenset("!<\"='>&\r\n")  # the comment and description rules of the models
_TAG_KEY = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,36}")
_TAG_VALUE = re.compile(r"[A-Za-z0-9_.\-\u4e00-\u9fff]{0,43}")
_BACKUP_WINDOW = re.compile(r"([0-9]{2}):00-([0-9]{2}):00")
_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")

LOCAL_NODE_ONLY = (
    "must be 0, because taskcenter's local driver runs an instance as one MariaDB server (its "
    "primary node) and cannot create read replicas yet.",
    "必须为 0：taskcenter 的本地驱动将实例运行为一个 MariaDB 服务器（主节点），暂不能创建只读节点。",
)


# ---- field readers: each adds its problems and returns None when the value is absent or wrong


def _object(problems: Problems, field: str, value: Any, allowed: frozenset[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.wrong_type(field, "an object")
        return None
    _unknown_fields(value, allowed, problems, f"{field}.")
    return value


def _list(problems: Problems, field: str, value: Any, limit: int, *, required: bool = False) -> list[Any]:
    if value is None:
        if required:
            problems.required(field)
        return []
    if not isinstance(value, list):
        problems.wrong_type(field, "a list")
        return []
    if required and not value:
        problems.add(field, f"must hold 1 to {limit} items.", f"必须包含 1 到 {limit} 项。")
        return []
    if len(value) > limit:
        problems.too_long(field, limit, "items")
        return []
    return value


def _text(
    body: dict[str, Any], field: str, problems: Problems, where: str = "", *, required: bool = False
) -> str | None:
    """A string of at most MAX_TEXT characters; a required one must not be empty."""
    value = _string(body, field, MAX_TEXT, problems, required=required, where=where)
    if required and value is not None and not value.strip():
        problems.add(where + field, "must not be empty.", "不能为空。")
        return None
    return value


def _boolean(body: dict[str, Any], field: str, problems: Problems, where: str = "") -> bool | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, bool):
        problems.wrong_type(where + field, "a boolean")
        return None
    return value


def _integer(
    body: dict[str, Any], field: str, low: int, high: int, problems: Problems, where: str = ""
) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.out_of_range(where + field, low, high)
        return None
    return value


def _refused(problems: Problems, body: dict[str, Any], field: str, en: str, zh: str) -> None:
    """A field of the models whose every value the local driver would have to ignore."""
    if body.get(field) is not None:
        problems.add(field, en, zh)


# ---- values with the same rule wherever they appear


def check_name(problems: Problems, field: str, value: Any) -> str | None:
    """An instance or backup name as the models define it."""
    if value is None:
        problems.required(field)
        return None
    if (
        not isinstance(value, str)
        or not 4 <= len(value) <= 64
        or len(value.encode()) > 64
        or not _NAME.fullmatch(value)
    ):
        problems.add(
            field,
            "must be 4-64 characters (at most 64 bytes; a Chinese character takes 3), starting with "
            "a letter or a Chinese character, and hold only letters, digits, Chinese characters, "
            "'-' and '_'.",
            "必须为 4-64 个字符（不超过 64 字节，一个中文字符占 3 字节），以字母或中文开头，"
            "只能包含字母、数字、中文、'-' 和 '_'。",
        )
        return None
    return value


def check_password(problems: Problems, field: str, value: Any) -> str | None:
    if value is None:
        problems.required(field)
        return None
    if not isinstance(value, str):
        problems.wrong_type(field, "a string")
        return None
    kinds = (
        any(c.isascii() and c.isupper() for c in value),
        any(c.isascii() and c.islower() for c in value),
        any(c.isascii() and c.isdigit() for c in value),
        any(c in _SPECIALS for c in value),
    )
    allowed = all((c.isascii() and c.isalnum()) or c in _SPECIALS for c in value)
    if not 8 <= len(value) <= 32 or not allowed or sum(kinds) < 3:
        problems.add(
            field,
            "must be 8-32 characters holding at least three kinds among upper-case letters, "
            "lower-case letters, digits and the special characters ~!@#$%^*-_=+?,()&, "
            "and no other characters.",
            "必须为 8-32 个字符，至少包含大写字母、小写字母、数字和特殊字符 ~!@#$%^*-_=+?,()& "
            "中的三类，且不能包含其他字符。",
        )
        return None
    return value


def check_flavor(problems: Problems, field: str, value: Any) -> Flavor | None:
    if value is None:
        problems.required(field)
        return None
    flavor = FLAVORS.get(value) if isinstance(value, str) else None
    if flavor is None:
        problems.not_one_of(field, sorted(FLAVORS))
    return flavor


def _comment(problems: Problems, field: str, value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit or _FORBIDDEN & set(value):
        problems.add(
            field,
            f"must be a string of at most {limit} characters, without line breaks or any of !<\"='>&.",
            f"必须是最多 {limit} 个字符的字符串，不能包含换行或 !<\"='>& 中的字符。",
        )
        return ""
    return value


def check_host(problems: Problems, field: str, value: Any) -> str | None:
    if (
        isinstance(value, str)
        and _HOST.fullmatch(value)
        and all(part == "%" or int(part) <= 255 for part in value.split("."))
    ):
        return value
    problems.add(
        field,
        "must be an IPv4 address in which '%' stands for any part (such as 10.10.10.%), or '%'.",
        "必须是 IPv4 地址（'%' 可代表任一段，例如 10.10.10.%），或 '%'。",
    )
    return None


def check_database_name(problems: Problems, field: str, value: Any) -> str | None:
    if value is None:
        problems.required(field)
        return None
    if not isinstance(value, str) or not _DB_NAME.fullmatch(value) or value.count("-") > 10:
        problems.add(
            field,
            "must be 1-64 letters, digits, '_' or '-' (at most 10 '-').",
            "必须为 1-64 个字母、数字、'_' 或 '-'（'-' 最多 10 个）。",
        )
        return None
    return value


def check_user_name(problems: Problems, field: str, value: Any) -> str | None:
    if value is None:
        problems.required(field)
        return None
    if not isinstance(value, str) or not _USER_NAME.fullmatch(value):
        problems.add(field, "must be 1-32 letters, digits or '_'.", "必须为 1-32 个字母、数字或 '_'。")
        return None
    return value


def _readonly(problems: Problems, item: dict[str, Any], where: str) -> bool:
    return _boolean(item, "readonly", problems, where) or False


# ---- POST /v3/{project_id}/instances


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class BackupStrategy:
    start_time: str  # hh:00-HH:00, UTC
    keep_days: int | None = None


@dataclass(frozen=True, slots=True)
class RestorePoint:
    """Restore into the new instance the backup ``backup_id`` of ``source_instance_id``."""

    source_instance_id: str
    backup_id: str


@dataclass(frozen=True, slots=True)
class CreateInstance:
    name: str
    flavor: Flavor
    password: str = field(repr=False)  # never in a log line or a traceback
    mode: str
    region: str
    vpc_id: str
    subnet_id: str
    availability_zone_mode: str
    time_zone: str = DEFAULT_TIME_ZONE
    lower_case_table_names: int = DEFAULT_LOWER_CASE_TABLE_NAMES
    enable_binlog: bool = False
    backup_strategy: BackupStrategy | None = None
    tags: tuple[Tag, ...] = ()
    security_group_id: str | None = None
    configuration_id: str | None = None
    enterprise_project_id: str | None = None
    master_availability_zone: str | None = None
    restore: RestorePoint | None = None

    @property
    def password_hash(self) -> str:
        return native_password_hash(self.password)

    def recorded(self) -> dict[str, Any]:
        """What is kept with the instance: shown in answers, and read back to set up its server.

        Never the password. Defaults are written out, so an answer shows what the server runs.
        """
        kept: dict[str, Any] = {
            "region": self.region,
            "vpc_id": self.vpc_id,
            "subnet_id": self.subnet_id,
            "mode": self.mode,
            "availability_zone_mode": self.availability_zone_mode,
            "charge_info": {"charge_mode": "postPaid"},
            "time_zone": self.time_zone,
            "lower_case_table_names": self.lower_case_table_names,
            "enable_binlog": self.enable_binlog,
            "tags": [{"key": t.key, "value": t.value} for t in self.tags],
        }
        for name in ("security_group_id", "configuration_id", "enterprise_project_id",
                     "master_availability_zone"):  # fmt: skip
            value = getattr(self, name)
            if value is not None:
                kept[name] = value
        if self.backup_strategy is not None:
            kept["backup_strategy"] = {"start_time": self.backup_strategy.start_time}
            if self.backup_strategy.keep_days is not None:
                kept["backup_strategy"]["keep_days"] = str(self.backup_strategy.keep_days)
        return kept


_CREATE_FIELDS = frozenset({
    "charge_info", "region", "name", "datastore", "mode", "flavor_ref", "vpc_id", "subnet_id",
    "security_group_id", "configuration_id", "password", "backup_strategy", "time_zone",
    "availability_zone_mode", "master_availability_zone", "slave_count", "volume", "tags",
    "lower_case_table_names", "enterprise_project_id", "dedicated_resource_id", "restore_point",
    "tde_info", "enable_binlog", "volume_auto_expand",
})  # fmt: skip
MODES = ("Cluster", "StandSingle")
AZ_MODES = ("single", "multi")


def parse_create(body: dict[str, Any]) -> CreateInstance:
    """The body of POST /v3/{project_id}/instances (MysqlInstanceRequest), every problem at once.

    Required as the API reference marks them: region, name, datastore, mode, flavor_ref, vpc_id,
    subnet_id, password, availability_zone_mode and slave_count. charge_info is optional there
    and defaults to pay-per-use (postPaid), the only billing taskcenter offers.
    """
    problems = Problems()
    _unknown_fields(body, _CREATE_FIELDS, problems)
    name = check_name(problems, "name", body.get("name"))
    _datastore(problems, body.get("datastore"))
    mode = _string(body, "mode", MAX_TEXT, problems, required=True)
    if mode is not None and mode not in MODES:
        problems.not_one_of("mode", MODES)
    flavor = check_flavor(problems, "flavor_ref", body.get("flavor_ref"))
    password = check_password(problems, "password", body.get("password"))
    region = _text(body, "region", problems, required=True)
    vpc_id = _text(body, "vpc_id", problems, required=True)
    subnet_id = _text(body, "subnet_id", problems, required=True)
    az_mode = _string(body, "availability_zone_mode", MAX_TEXT, problems, required=True)
    if az_mode is not None and az_mode not in AZ_MODES:
        problems.not_one_of("availability_zone_mode", AZ_MODES)
    _slave_count(problems, body, mode)
    _charge_info(problems, body.get("charge_info"))
    strategy = _backup_strategy(problems, body.get("backup_strategy"))
    time_zone = _string(body, "time_zone", MAX_TEXT, problems)
    if time_zone is not None and utc_offset(time_zone) is None:
        problems.add(
            "time_zone",
            "must be UTC, or UTC+hh:00 or UTC-hh:00 from UTC-12:00 to UTC+12:00 (such as UTC+08:00).",
            "必须为 UTC，或 UTC-12:00 至 UTC+12:00 之间的 UTC+hh:00、UTC-hh:00（例如 UTC+08:00）。",
        )
    lower_case = body.get("lower_case_table_names")
    if lower_case is None:
        lower_case = DEFAULT_LOWER_CASE_TABLE_NAMES
    elif lower_case not in (0, 1) or isinstance(lower_case, bool):
        problems.add(
            "lower_case_table_names",
            "must be 0 (table names are case-sensitive) or 1 (stored in lower case, case-insensitive).",
            "必须为 0（表名大小写敏感）或 1（表名以小写存储，大小写不敏感）。",
        )
    enable_binlog = _boolean(body, "enable_binlog", problems)
    tags = _tags(problems, body.get("tags"))
    restore = _restore_point(problems, body.get("restore_point"))
    _tde_info(problems, body.get("tde_info"))
    _refused(problems, body, "volume",
             "is chosen only for yearly/monthly instances; a pay-per-use instance's storage grows by itself.",
             "仅包年/包月实例可指定；按需实例的存储自动增长。")  # fmt: skip
    _refused(problems, body, "volume_auto_expand",
             "the local driver has no volume to expand; leave it out.",
             "本地驱动没有可扩容的存储卷；请省略该字段。")  # fmt: skip
    dedicated = _string(body, "dedicated_resource_id", MAX_TEXT, problems)
    if dedicated:
        problems.add(
            "dedicated_resource_id",
            "the local driver has no dedicated resource pools; leave it out.",
            "本地驱动没有专属资源池；请省略该字段。",
        )
    security_group_id = _text(body, "security_group_id", problems)
    configuration_id = _text(body, "configuration_id", problems)
    enterprise_project_id = _text(body, "enterprise_project_id", problems)
    master_az = _text(body, "master_availability_zone", problems)
    problems.check()
    assert name and flavor and password and mode and region and vpc_id and subnet_id and az_mode
    return CreateInstance(
        name=name,
        flavor=flavor,
        password=password,
        mode=mode,
        region=region,
        vpc_id=vpc_id,
        subnet_id=subnet_id,
        availability_zone_mode=az_mode,
        time_zone=time_zone if time_zone is not None else DEFAULT_TIME_ZONE,
        lower_case_table_names=lower_case,
        enable_binlog=bool(enable_binlog),
        backup_strategy=strategy,
        tags=tags,
        restore=restore,
        security_group_id=security_group_id,
        configuration_id=configuration_id,
        enterprise_project_id=enterprise_project_id,
        master_availability_zone=master_az,
    )


def _datastore(problems: Problems, raw: Any) -> None:
    if raw is None:
        problems.required("datastore")
        return
    datastore = _object(problems, "datastore", raw, frozenset({"type", "version", "kernel_version"}))
    if datastore is None:
        return
    kind = _string(datastore, "type", MAX_TEXT, problems, required=True, where="datastore.")
    if kind is not None and kind != DATASTORE:
        problems.not_one_of("datastore.type", (DATASTORE,))
    version = _string(datastore, "version", MAX_TEXT, problems, required=True, where="datastore.")
    versions = (ENGINE_VERSION["version"], ENGINE_VERSION["name"])
    if version is not None and version not in versions:
        problems.not_one_of("datastore.version", versions)
    kernel = _string(datastore, "kernel_version", MAX_TEXT, problems, where="datastore.")
    if kernel is not None and kernel != ENGINE_VERSION["kernel_version"]:
        problems.not_one_of("datastore.kernel_version", (ENGINE_VERSION["kernel_version"],))


def _slave_count(problems: Problems, body: dict[str, Any], mode: str | None) -> None:
    if body.get("slave_count") is None:
        problems.required("slave_count")
        return
    count = _integer(body, "slave_count", 0, 9, problems)
    if count is None or count == 0:
        return
    if mode == "StandSingle":
        problems.add("slave_count", "must be 0 for a StandSingle instance.", "单机版实例必须为 0。")
    else:
        problems.add("slave_count", *LOCAL_NODE_ONLY)


_CHARGE_FIELDS = frozenset({"charge_mode", "period_type", "period_num", "is_auto_renew", "is_auto_pay"})


def _charge_info(problems: Problems, raw: Any) -> None:
    charge = _object(problems, "charge_info", raw, _CHARGE_FIELDS)
    if charge is None:
        return  # pay-per-use, the cloud's default
    where = "charge_info."
    mode = _string(charge, "charge_mode", MAX_TEXT, problems, required=True, where=where)
    if mode == "prePaid":
        problems.add(
            "charge_info.charge_mode",
            "prePaid (yearly/monthly) is not offered, as taskcenter runs every instance pay-per-use "
            "(postPaid); leave charge_info out or send postPaid.",
            "不提供 prePaid（包年/包月）：taskcenter 的实例均为按需计费（postPaid）；"
            "请省略 charge_info 或使用 postPaid。",
        )
    elif mode is not None and mode != "postPaid":
        problems.not_one_of("charge_info.charge_mode", ("postPaid", "prePaid"))
    period = _string(charge, "period_type", MAX_TEXT, problems, where=where)
    if period is not None and period not in ("month", "year"):
        problems.not_one_of("charge_info.period_type", ("month", "year"))
    _integer(charge, "period_num", 1, 9, problems, where)
    for flag in ("is_auto_renew", "is_auto_pay"):
        value = _string(charge, flag, MAX_TEXT, problems, where=where)
        if value is not None and value not in ("true", "false"):
            problems.not_one_of(where + flag, ("true", "false"))


def _backup_strategy(problems: Problems, raw: Any) -> BackupStrategy | None:
    strategy = _object(problems, "backup_strategy", raw, frozenset({"start_time", "keep_days"}))
    if strategy is None:
        return None
    where = "backup_strategy."
    start = _string(strategy, "start_time", MAX_TEXT, problems, required=True, where=where)
    if start is not None:
        match = _BACKUP_WINDOW.fullmatch(start)
        if match is None or int(match[1]) > 23 or int(match[2]) != (int(match[1]) + 1) % 24:
            problems.add(
                "backup_strategy.start_time",
                "must be hh:00-HH:00 in UTC, HH one hour after hh (such as 08:00-09:00).",
                "格式必须为 hh:00-HH:00（UTC 时间），且 HH 比 hh 大 1（例如 08:00-09:00）。",
            )
            start = None
    keep_days = _keep_days(problems, strategy.get("keep_days"))
    return BackupStrategy(start, keep_days) if start is not None else None


def _keep_days(problems: Problems, raw: Any) -> int | None:
    """Days to keep automated backups, 1-732: the model types it a string ("7"); a number is taken too."""
    if raw is None:
        return None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 3:
        days: Any = int(raw)
    else:
        days = raw
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 732:
        problems.add(
            "backup_strategy.keep_days",
            'must be a number of days from 1 to 732 (such as "7").',
            '必须是 1 到 732 之间的天数（例如 "7"）。',
        )
        return None
    return days


def _tags(problems: Problems, raw: Any) -> tuple[Tag, ...]:
    tags: dict[str, Tag] = {}
    for index, item in enumerate(_list(problems, "tags", raw, MAX_TAGS)):
        where = f"tags[{index}]"
        tag = _object(problems, where, item, frozenset({"key", "value"}))
        if tag is None:
            if item is None:
                problems.wrong_type(where, "an object")
            continue
        key, value = tag.get("key"), tag.get("value")
        value = "" if value is None else value
        if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
            problems.add(
                f"{where}.key",
                "must be 1-36 letters, digits, '-', '_' or Chinese characters.",
                "必须为 1-36 个字符：字母、数字、'-'、'_' 或中文。",
            )
            key = None
        elif key in tags:
            problems.add(f"{where}.key", "repeats a key given before; each key may appear once.",
                         "与前面的键重复；每个键只能出现一次。")  # fmt: skip
            key = None
        if not isinstance(value, str) or not _TAG_VALUE.fullmatch(value):
            problems.add(
                f"{where}.value",
                "must be at most 43 letters, digits, '.', '-', '_' or Chinese characters.",
                "最多 43 个字符：字母、数字、'.'、'-'、'_' 或中文。",
            )
        elif key is not None:
            tags[key] = Tag(key, value)
    return tuple(tags.values())


_RESTORE_FIELDS = frozenset({"source_instance_id", "type", "backup_id", "restore_time"})


def _restore_point(problems: Problems, raw: Any) -> RestorePoint | None:
    restore = _object(problems, "restore_point", raw, _RESTORE_FIELDS)
    if restore is None:
        return None
    where = "restore_point."
    source = _string(restore, "source_instance_id", 64, problems, required=True, where=where)
    if source is not None:
        parse_instance_id("restore_point.source_instance_id", source, problems)
    kind = _string(restore, "type", MAX_TEXT, problems, where=where)
    if kind == "timestamp":
        problems.add(
            "restore_point.type",
            "point-in-time restore is not offered by the local driver; restore a backup "
            "(type backup, with backup_id).",
            "本地驱动不支持按时间点恢复；请按备份恢复（type 为 backup，并给出 backup_id）。",
        )
    elif kind is not None and kind != "backup":
        problems.not_one_of("restore_point.type", ("backup", "timestamp"))
    backup_id = _string(restore, "backup_id", 64, problems, required=kind != "timestamp", where=where)
    if backup_id is not None and not _ID.fullmatch(backup_id):
        problems.add("restore_point.backup_id", "not a backup id (1-64 letters, digits, '-' or '_').",
                     "不是合法的备份ID（1-64 个字母、数字、'-' 或 '_'）。")  # fmt: skip
    _integer(restore, "restore_time", 0, 2**63 - 1, problems, where)
    if source is None or backup_id is None or problems.has("restore_point"):
        return None
    return RestorePoint(source, backup_id)


def _tde_info(problems: Problems, raw: Any) -> None:
    tde = _object(problems, "tde_info", raw, frozenset({"enable_tde", "encryption_type"}))
    if tde is None:
        return
    if _boolean(tde, "enable_tde", problems, "tde_info."):
        problems.add("tde_info.enable_tde", "the local driver does not encrypt data at rest; send false.",
                     "本地驱动不支持透明数据加密；请设为 false。")  # fmt: skip
    kind = _string(tde, "encryption_type", MAX_TEXT, problems, where="tde_info.")
    if kind is not None and kind not in ("AES256", "SM4"):
        problems.not_one_of("tde_info.encryption_type", ("AES256", "SM4"))


# ---- the operations on an instance


@dataclass(frozen=True, slots=True)
class Restart:
    delay: bool = False  # true: in the next maintenance window


def parse_restart(body: dict[str, Any]) -> Restart:
    """POST .../instances/{instance_id}/restart (TaurusRestartInstanceRequest); the body may be empty."""
    problems = Problems()
    _unknown_fields(body, frozenset({"delay"}), problems)
    delay = _boolean(body, "delay", problems)
    problems.check()
    return Restart(bool(delay))


@dataclass(frozen=True, slots=True)
class Resize:
    flavor: Flavor
    delay: bool = False  # taskcenter's extension, as on restart: the SDK's model has no delay


def parse_resize(body: dict[str, Any]) -> Resize:
    """POST .../instances/{instance_id}/action (MysqlChangeSpecificationRequest)."""
    problems = Problems()
    _unknown_fields(body, frozenset({"resize_flavor", "is_auto_pay", "delay"}), problems)
    flavor = None
    resize = _object(problems, "resize_flavor", body.get("resize_flavor"), frozenset({"spec_code"}))
    if body.get("resize_flavor") is None:
        problems.required("resize_flavor")
    elif resize is not None:
        flavor = check_flavor(problems, "resize_flavor.spec_code", resize.get("spec_code"))
    auto_pay = _string(body, "is_auto_pay", MAX_TEXT, problems)
    if auto_pay is not None and auto_pay not in ("true", "false"):
        problems.not_one_of("is_auto_pay", ("true", "false"))
    delay = _boolean(body, "delay", problems)
    problems.check()
    assert flavor is not None
    return Resize(flavor, bool(delay))


@dataclass(frozen=True, slots=True)
class CreateBackup:
    instance_id: str
    name: str
    description: str = ""


def parse_create_backup(body: dict[str, Any]) -> CreateBackup:
    """POST /v3/{project_id}/backups/create (MysqlCreateBackupRequest)."""
    problems = Problems()
    _unknown_fields(body, frozenset({"instance_id", "name", "description"}), problems)
    instance_id = _string(body, "instance_id", 64, problems, required=True)
    if instance_id is not None:
        parse_instance_id("instance_id", instance_id, problems)
    name = check_name(problems, "name", body.get("name"))
    description = _comment(problems, "description", body.get("description"), MAX_DESCRIPTION)
    problems.check()
    assert instance_id is not None and name is not None
    return CreateBackup(instance_id, name, description)


@dataclass(frozen=True, slots=True)
class Grant:
    """A user given rights on a database as it is created (GaussMySqlDatabaseUser)."""

    name: str
    host: str = "%"
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class NewDatabase:
    name: str
    character_set: str
    comment: str = ""
    users: tuple[Grant, ...] = ()


_DATABASE_FIELDS = frozenset({"name", "character_set", "comment", "users"})
_GRANT_FIELDS = frozenset({"name", "host", "readonly"})


def parse_databases(body: dict[str, Any]) -> tuple[NewDatabase, ...]:
    """POST .../instances/{instance_id}/databases (CreateGaussMySqlDatabaseRequestBody)."""
    problems = Problems()
    _unknown_fields(body, frozenset({"databases"}), problems)
    databases: dict[str, NewDatabase] = {}
    listed = _list(problems, "databases", body.get("databases"), MAX_DATABASES, required=True)
    for i, raw in enumerate(listed):
        where = f"databases[{i}]"
        item = _object(problems, where, raw, _DATABASE_FIELDS)
        if item is None:
            if raw is None:
                problems.wrong_type(where, "an object")
            continue
        name = check_database_name(problems, f"{where}.name", item.get("name"))
        if name is not None and name in databases:
            problems.add(f"{where}.name", "repeats a database given before.", "与前面的数据库重复。")
            name = None
        charset = item.get("character_set")
        if charset is None:
            problems.required(f"{where}.character_set")
        elif not isinstance(charset, str) or not _CHARSET.fullmatch(charset):
            problems.add(f"{where}.character_set", "must be a character set name such as utf8mb4 or gbk.",
                         "必须是字符集名称，例如 utf8mb4 或 gbk。")  # fmt: skip
            charset = None
        comment = _comment(problems, f"{where}.comment", item.get("comment"), MAX_COMMENT)
        grants = []
        for j, user in enumerate(_list(problems, f"{where}.users", item.get("users"), MAX_USERS)):
            at = f"{where}.users[{j}]"
            grant = _object(problems, at, user, _GRANT_FIELDS)
            if grant is None:
                if user is None:
                    problems.wrong_type(at, "an object")
                continue
            user_name = check_user_name(problems, f"{at}.name", grant.get("name"))
            host = check_host(problems, f"{at}.host", grant.get("host", "%"))
            readonly = _readonly(problems, grant, f"{at}.")
            if user_name is not None and host is not None:
                grants.append(Grant(user_name, host, readonly))
        if name is not None and isinstance(charset, str):
            databases[name] = NewDatabase(name, charset, comment, tuple(grants))
    problems.check()
    return tuple(databases.values())


@dataclass(frozen=True, slots=True)
class DatabaseRight:
    """A database a new user gets rights on (CreateDatabaseList)."""

    name: str
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class NewUser:
    name: str
    password_hash: str = field(repr=False)  # mysql_native_password: the password is never kept
    hosts: tuple[str, ...] = ("%",)
    databases: tuple[DatabaseRight, ...] = ()

    def grants(self) -> dict[str, Any]:
        """The user as its job creates it: everything but the password hash (a job secret)."""
        return {
            "name": self.name,
            "hosts": list(self.hosts),
            "databases": [{"name": d.name, "readonly": d.readonly} for d in self.databases],
        }


_USER_FIELDS = frozenset({"name", "password", "hosts", "databases", "comment"})


def parse_users(body: dict[str, Any]) -> tuple[NewUser, ...]:
    """POST .../instances/{instance_id}/db-users (CreateDatabaseUserRequest)."""
    problems = Problems()
    _unknown_fields(body, frozenset({"users"}), problems)
    users: dict[str, NewUser] = {}
    for i, raw in enumerate(_list(problems, "users", body.get("users"), MAX_USERS, required=True)):
        where = f"users[{i}]"
        item = _object(problems, where, raw, _USER_FIELDS)
        if item is None:
            if raw is None:
                problems.wrong_type(where, "an object")
            continue
        name = check_user_name(problems, f"{where}.name", item.get("name"))
        if name is not None and name in users:
            problems.add(f"{where}.name", "repeats a user given before; each user may appear once.",
                         "与前面的用户重复；每个用户只能出现一次。")  # fmt: skip
            name = None
        password = check_password(problems, f"{where}.password", item.get("password"))
        if password is not None and password == item.get("name"):
            problems.add(f"{where}.password", "must differ from the user name.", "不能与用户名相同。")
            password = None
        if _comment(problems, f"{where}.comment", item.get("comment"), MAX_COMMENT):
            problems.add(
                f"{where}.comment",
                "the local driver's MariaDB keeps no comment on a user; leave it out.",
                "本地驱动的 MariaDB 不能为用户保存备注；请省略该字段。",
            )
        raw_hosts = _list(problems, f"{where}.hosts", item.get("hosts"), MAX_USERS)
        hosts = [check_host(problems, f"{where}.hosts[{j}]", h) for j, h in enumerate(raw_hosts)]
        rights = []
        for j, db in enumerate(_list(problems, f"{where}.databases", item.get("databases"), MAX_DATABASES)):
            at = f"{where}.databases[{j}]"
            right = _object(problems, at, db, frozenset({"name", "readonly"}))
            if right is None:
                if db is None:
                    problems.wrong_type(at, "an object")
                continue
            db_name = check_database_name(problems, f"{at}.name", right.get("name"))
            readonly = _readonly(problems, right, f"{at}.")
            if db_name is not None:
                rights.append(DatabaseRight(db_name, readonly))
        if name is not None and password is not None:
            kept_hosts = tuple(dict.fromkeys(h for h in hosts if h is not None)) or ("%",)
            users[name] = NewUser(name, native_password_hash(password), kept_hosts, tuple(rights))
    problems.check()
    return tuple(users.values())


def parse_password(body: dict[str, Any]) -> str:
    """POST .../instances/{instance_id}/password (MysqlResetPasswordRequest): the new password."""
    problems = Problems()
    _unknown_fields(body, frozenset({"password"}), problems)
    password = check_password(problems, "password", body.get("password"))
    problems.check()
    assert password is not None
    return password


# ---- discovery: GET /v3/{project_id}/flavors/{database_name} and datastores/{database_name}


def parse_datastore_name(database_name: str, problems: Problems | None = None) -> None:
    """The path's engine name: gaussdb-mysql, in any case."""
    own = Problems() if problems is None else problems
    if database_name.lower() != DATASTORE:
        own.not_one_of("database_name", (DATASTORE,))
    if problems is None:
        own.check()


def parse_flavor_query(database_name: str, query: dict[str, str]) -> str | None:
    """The spec_code a flavor list is narrowed to, if any (ShowGaussMySqlFlavorsRequest)."""
    problems = Problems()
    parse_datastore_name(database_name, problems)
    az_mode = query.get("availability_zone_mode")
    if not az_mode:
        problems.required("availability_zone_mode")
    elif az_mode.lower() not in AZ_MODES:
        problems.not_one_of("availability_zone_mode", AZ_MODES)
    version = query.get("version_name")
    if version and version not in (ENGINE_VERSION["name"], ENGINE_VERSION["version"]):
        problems.not_one_of("version_name", (ENGINE_VERSION["name"], ENGINE_VERSION["version"]))
    spec_code = query.get("spec_code") or None
    if spec_code is not None:
        check_text(problems, "spec_code", spec_code, MAX_TEXT)
    problems.check()
    return spec_code
