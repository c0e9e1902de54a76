"""The filters of the instance and backup lists, as the SDK's request models document them.

ListGaussMySqlInstancesRequest (and its v3.1 twin) and ShowGaussMySqlBackupListRequest: each
query is checked whole (every problem at once) and becomes a filter that the store applies in
SQL, so pages and total_count always agree with the filter.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime

from taskcenter.domain.instance import DATASTORE, parse_instance_id
from taskcenter.domain.problems import Problems
from taskcenter.domain.requests import check_text, parse_int
from taskcenter.domain.wire import parse_time

# Every instance taskcenter runs is a Cluster with one write address once its server exists,
# and has no read-only replicas or proxies (the answers say so): filters on these match all,
# some or none of the instances without a column to look at.
INSTANCE_TYPE = "Cluster"
WRITE_ADDRESS = "127.0.0.1"
BACKUP_TYPES = ("auto", "manual")  # every backup taskcenter makes is manual
MAX_TEXT = 128
MAX_TAGS = 20
_BACKUP_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


@dataclass(frozen=True, slots=True)
class TextMatch:
    """A value the cloud matches exactly, or, written "*text", by containing ``text``."""

    text: str
    contains: bool = False


@dataclass(frozen=True, slots=True)
class InstanceFilter:
    id: TextMatch | None = None
    name: TextMatch | None = None
    vpc_id: str | None = None
    subnet_id: str | None = None
    # Key/value pairs an instance's tags must all hold.
    tags: tuple[tuple[str, str], ...] = ()
    # Only instances that have their write address (asked for by private_ip).
    with_address: bool = False
    # Asks for something no instance here has (a read-only or proxy address, another write
    # address): the answer is empty whatever is stored.
    impossible: bool = False


@dataclass(frozen=True, slots=True)
class BackupFilter:
    instance_id: str | None = None
    backup_id: str | None = None
    name: str | None = None
    instance_name: str | None = None
    # Bound the backup's begin time, inclusive.
    begin_time: datetime | None = None
    end_time: datetime | None = None
    impossible: bool = False  # backup_type=auto: taskcenter makes manual backups only


def _text(problems: Problems, query: dict[str, str], field: str) -> str | None:
    value = query.get(field) or None
    if value is not None and not check_text(problems, field, value, MAX_TEXT):
        return None
    return value


def _match(problems: Problems, query: dict[str, str], field: str) -> TextMatch | None:
    value = _text(problems, query, field)
    if value is None:
        return None
    if value.startswith("*"):
        if not value.strip("*"):
            problems.add(field, "must not be only '*' ('*text' matches names containing text).",
                         "不能只包含 '*'（'*文本' 表示模糊匹配）。")  # fmt: skip
            return None
        return TextMatch(value[1:], contains=True)
    return TextMatch(value)


def _address(problems: Problems, query: dict[str, str], field: str) -> str | None:
    value = _text(problems, query, field)
    if value is None:
        return None
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        problems.add(field, "must be an IPv4 address such as 192.168.0.10.",
                     "必须是 IPv4 地址，例如 192.168.0.10。")  # fmt: skip
        return None


def _tags(problems: Problems, query: dict[str, str]) -> tuple[tuple[str, str], ...]:
    raw = query.get("tags") or ""
    if not raw or not check_text(problems, "tags", raw, MAX_TAGS * 400):
        return ()
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        key, equals, value = item.partition("=")
        if not equals or not key:
            problems.add("tags", "must be key=value pairs separated by commas, such as env=prod,team=db.",
                         "必须是以逗号分隔的 key=value 键值对，例如 env=prod,team=db。")  # fmt: skip
            return ()
        if key in pairs:
            problems.add("tags", f"the key {key} appears twice; each key may appear once.",
                         f"键 {key} 出现了两次；每个键只能出现一次。")  # fmt: skip
            return ()
        pairs[key] = value
    if len(pairs) > MAX_TAGS:
        problems.too_long("tags", MAX_TAGS, "items")
        return ()
    return tuple(pairs.items())


def _page(problems: Problems, query: dict[str, str]) -> tuple[int, int]:
    """offset (a record offset, from 0) and limit (1-100, default 100), as both lists document."""
    offset = parse_int(problems, "offset", query.get("offset"), 0, 0, 10**9)
    limit = parse_int(problems, "limit", query.get("limit"), 100, 1, 100)
    return offset, limit


def parse_instance_query(query: dict[str, str]) -> tuple[InstanceFilter, int, int]:
    """The filter, offset and limit of GET /v3[.1]/{project_id}/instances."""
    problems = Problems()
    impossible = False
    kind = _text(problems, query, "type")
    if kind is not None and kind != INSTANCE_TYPE:
        problems.not_one_of("type", [INSTANCE_TYPE])
    datastore = _text(problems, query, "datastore_type")
    if datastore is not None and datastore.lower() != DATASTORE:
        problems.not_one_of("datastore_type", [DATASTORE])
    private_ip = _address(problems, query, "private_ip")
    if private_ip is not None and private_ip != WRITE_ADDRESS:
        impossible = True
    for field in ("readonly_private_ip", "proxy_ip"):
        if _address(problems, query, field) is not None:
            impossible = True
    where = InstanceFilter(
        id=_match(problems, query, "id"),
        name=_match(problems, query, "name"),
        vpc_id=_text(problems, query, "vpc_id"),
        subnet_id=_text(problems, query, "subnet_id"),
        tags=_tags(problems, query),
        with_address=private_ip is not None,
        impossible=impossible,
    )
    offset, limit = _page(problems, query)
    problems.check()
    return where, offset, limit


def parse_backup_query(query: dict[str, str]) -> tuple[BackupFilter, int, int]:
    """The filter, offset and limit of GET /v3/{project_id}/backups."""
    problems = Problems()
    instance_id = _text(problems, query, "instance_id")
    if instance_id is not None:
        parse_instance_id("instance_id", instance_id, problems)
    backup_id = _text(problems, query, "backup_id")
    if backup_id is not None and not _BACKUP_ID.fullmatch(backup_id):
        problems.add("backup_id", "not a backup id (1-64 letters, digits, '-' or '_').",
                     "不是合法的备份ID（1-64 个字母、数字、'-' 或 '_'）。")  # fmt: skip
    backup_type = _text(problems, query, "backup_type")
    if backup_type is not None and backup_type not in BACKUP_TYPES:
        problems.not_one_of("backup_type", BACKUP_TYPES)
    begin = parse_time("begin_time", query["begin_time"], problems) if query.get("begin_time") else None
    end = parse_time("end_time", query["end_time"], problems) if query.get("end_time") else None
    if begin and end and end <= begin:
        problems.add("end_time", "must be later than begin_time.", "必须晚于 begin_time。")
    where = BackupFilter(
        instance_id=instance_id,
        backup_id=backup_id,
        name=_text(problems, query, "name"),
        instance_name=_text(problems, query, "instance_name"),
        begin_time=begin,
        end_time=end,
        impossible=backup_type == "auto",
    )
    offset, limit = _page(problems, query)
    problems.check()
    return where, offset, limit
