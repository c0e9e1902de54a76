"""The instance APIs' refusals word for word in both languages, and each valid request whole.

Written against the mutants that scripts/mutation found surviving in
domain/instance_requests.py: a reason emptied or cut, a sub-object's field no longer checked, a
range moved by one, a value lost between the body and what the job records. A client reads the
reasons as they are; what is recorded is what the job creates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from taskcenter.domain.errors import InvalidParameter
from taskcenter.domain.instance import FLAVORS, native_password_hash
from taskcenter.domain.instance_requests import (
    BackupStrategy,
    CreateBackup,
    DatabaseRight,
    Grant,
    NewDatabase,
    NewUser,
    Resize,
    Restart,
    RestorePoint,
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
from tests.domain.test_instance_requests import PASSWORD, minimal

INSTANCE_ID = "0123456789abcdef0123456789abcdefin07"
SMALL = "gaussdb.mysql.small.x86.2"

CASES: list[tuple[Callable[[Any], object], Any, str, str]] = [
    (
        parse_create,
        minimal(
            charge_info={
                "charge_mode": "prePaid",
                "period_type": "week",
                "period_num": 10,
                "is_auto_renew": "yes",
                "is_auto_pay": True,
                "x": 1,
            }
        ),
        "charge_info.x: unknown field; allowed fields are charge_mode, is_auto_pay, "
        "is_auto_renew, period_num, period_type. charge_info.charge_mode: prePaid "
        "(yearly/monthly) is not offered, as taskcenter runs every instance pay-per-use "
        "(postPaid); leave charge_info out or send postPaid. charge_info.period_type: must "
        "be one of month, year. charge_info.period_num: must be an integer from 1 to 9. "
        "charge_info.is_auto_renew: must be one of true, false. charge_info.is_auto_pay: "
        "must be a string.",
        "charge_info.x: 未知字段；允许的字段为 charge_mode, is_auto_pay, is_auto_renew, "
        "period_num, period_type。 charge_info.charge_mode: 不提供 prePaid（包年/包月）："
        "taskcenter 的实例均为按需计费（postPaid）；请省略 charge_info 或使用 postPaid。 "
        "charge_info.period_type: 必须是以下之一：month, year。 charge_info.period_num: 必须"
        "是 1 到 9 之间的整数。 charge_info.is_auto_renew: 必须是以下之一：true, false。 "
        "charge_info.is_auto_pay: 必须是字符串。",
    ),
    (
        parse_create,
        minimal(charge_info={"charge_mode": "monthly", "period_num": 0}),
        "charge_info.charge_mode: must be one of postPaid, prePaid. charge_info.period_num: "
        "must be an integer from 1 to 9.",
        "charge_info.charge_mode: 必须是以下之一：postPaid, prePaid。 "
        "charge_info.period_num: 必须是 1 到 9 之间的整数。",
    ),
    (
        parse_create,
        minimal(charge_info={"period_type": "year", "is_auto_pay": "maybe"}),
        "charge_info.charge_mode: is required. charge_info.is_auto_pay: must be one of true, false.",
        "charge_info.charge_mode: 必填。 charge_info.is_auto_pay: 必须是以下之一：true, false。",
    ),
    (
        parse_create,
        minimal(charge_info="postPaid"),
        "charge_info: must be an object.",
        "charge_info: 必须是对象。",
    ),
    (
        parse_create,
        minimal(restore_point={"type": "timestamp", "restore_time": -1, "more": 1}),
        "restore_point.more: unknown field; allowed fields are backup_id, restore_time, "
        "source_instance_id, type. restore_point.source_instance_id: is required. "
        "restore_point.type: point-in-time restore is not offered by the local driver; "
        "restore a backup (type backup, with backup_id). restore_point.restore_time: must be "
        "an integer from 0 to 9223372036854775807.",
        "restore_point.more: 未知字段；允许的字段为 backup_id, restore_time, "
        "source_instance_id, type。 restore_point.source_instance_id: 必填。 "
        "restore_point.type: 本地驱动不支持按时间点恢复；请按备份恢复（type 为 backup，并给出"
        " backup_id）。 restore_point.restore_time: 必须是 0 到 9223372036854775807 之间的整"
        "数。",
    ),
    (
        parse_create,
        minimal(restore_point={"source_instance_id": "bad id", "type": "copy", "backup_id": "b" * 65}),
        "restore_point.source_instance_id: not an instance id (1-64 letters, digits, '-' or "
        "'_'). restore_point.type: must be one of backup, timestamp. "
        "restore_point.backup_id: must be at most 64 characters.",
        "restore_point.source_instance_id: 不是合法的实例ID（1-64 个字母、数字、'-' 或 '_'）"
        "。 restore_point.type: 必须是以下之一：backup, timestamp。 restore_point.backup_id: "
        "最多 64 个字符。",
    ),
    (
        parse_create,
        minimal(restore_point={"source_instance_id": "s" * 65, "backup_id": "a b", "restore_time": 2**63}),
        "restore_point.source_instance_id: must be at most 64 characters. "
        "restore_point.backup_id: not a backup id (1-64 letters, digits, '-' or '_'). "
        "restore_point.restore_time: must be an integer from 0 to 9223372036854775807.",
        "restore_point.source_instance_id: 最多 64 个字符。 restore_point.backup_id: 不是合法"
        "的备份ID（1-64 个字母、数字、'-' 或 '_'）。 restore_point.restore_time: 必须是 0 到 "
        "9223372036854775807 之间的整数。",
    ),
    (
        parse_create,
        minimal(restore_point={"source_instance_id": INSTANCE_ID}),
        "restore_point.backup_id: is required.",
        "restore_point.backup_id: 必填。",
    ),
    (
        parse_create,
        minimal(tde_info={"enable_tde": True, "encryption_type": "DES", "key": 1}),
        "tde_info.key: unknown field; allowed fields are enable_tde, encryption_type. "
        "tde_info.enable_tde: the local driver does not encrypt data at rest; send false. "
        "tde_info.encryption_type: must be one of AES256, SM4.",
        "tde_info.key: 未知字段；允许的字段为 enable_tde, encryption_type。 "
        "tde_info.enable_tde: 本地驱动不支持透明数据加密；请设为 false。 "
        "tde_info.encryption_type: 必须是以下之一：AES256, SM4。",
    ),
    (
        parse_create,
        minimal(tde_info={"enable_tde": "yes"}),
        "tde_info.enable_tde: must be a boolean.",
        "tde_info.enable_tde: 必须是布尔值。",
    ),
    (
        parse_create,
        minimal(tde_info=[]),
        "tde_info: must be an object.",
        "tde_info: 必须是对象。",
    ),
    (
        parse_create,
        minimal(
            tags=[
                None,
                3,
                {"key": "", "value": "v"},
                {"key": "k" * 37},
                {"key": "a", "value": "v" * 44},
                {"key": "b", "value": "x y"},
                {"key": "c", "value": 7},
                {"key": "c"},
                {"key": "c", "value": "w"},
                {"key": "d", "other": 1},
            ]
        ),
        "tags[0]: must be an object. tags[1]: must be an object. tags[2].key: must be 1-36 "
        "letters, digits, '-', '_' or Chinese characters. tags[3].key: must be 1-36 letters, "
        "digits, '-', '_' or Chinese characters. tags[4].value: must be at most 43 letters, "
        "digits, '.', '-', '_' or Chinese characters. tags[5].value: must be at most 43 "
        "letters, digits, '.', '-', '_' or Chinese characters. tags[6].value: must be at "
        "most 43 letters, digits, '.', '-', '_' or Chinese characters. tags[8].key: repeats "
        "a key given before; each key may appear once. tags[9].other: unknown field; allowed "
        "fields are key, value.",
        "tags[0]: 必须是对象。 tags[1]: 必须是对象。 tags[2].key: 必须为 1-36 个字符：字母、"
        "数字、'-'、'_' 或中文。 tags[3].key: 必须为 1-36 个字符：字母、数字、'-'、'_' 或中文"
        "。 tags[4].value: 最多 43 个字符：字母、数字、'.'、'-'、'_' 或中文。 tags[5].value: "
        "最多 43 个字符：字母、数字、'.'、'-'、'_' 或中文。 tags[6].value: 最多 43 个字符：字"
        "母、数字、'.'、'-'、'_' 或中文。 tags[8].key: 与前面的键重复；每个键只能出现一次。 "
        "tags[9].other: 未知字段；允许的字段为 key, value。",
    ),
    (
        parse_create,
        minimal(tags=[{"key": f"k{i}"} for i in range(21)]),
        "tags: must be at most 20 items.",
        "tags: 最多 20 项。",
    ),
    (
        parse_create,
        minimal(tags={"key": "a"}),
        "tags: must be a list.",
        "tags: 必须是列表。",
    ),
    (
        parse_create,
        minimal(backup_strategy={"start_time": "24:00-01:00", "keep_days": "0"}),
        "backup_strategy.start_time: must be hh:00-HH:00 in UTC, HH one hour after hh (such "
        "as 08:00-09:00). backup_strategy.keep_days: must be a number of days from 1 to 732 "
        '(such as "7").',
        "backup_strategy.start_time: 格式必须为 hh:00-HH:00（UTC 时间），且 HH 比 hh 大 1（例"
        '如 08:00-09:00）。 backup_strategy.keep_days: 必须是 1 到 732 之间的天数（例如 "7"）'
        "。",
    ),
    (
        parse_create,
        minimal(backup_strategy={"start_time": "08:00-10:00", "keep_days": 733}),
        "backup_strategy.start_time: must be hh:00-HH:00 in UTC, HH one hour after hh (such "
        "as 08:00-09:00). backup_strategy.keep_days: must be a number of days from 1 to 732 "
        '(such as "7").',
        "backup_strategy.start_time: 格式必须为 hh:00-HH:00（UTC 时间），且 HH 比 hh 大 1（例"
        '如 08:00-09:00）。 backup_strategy.keep_days: 必须是 1 到 732 之间的天数（例如 "7"）'
        "。",
    ),
    (
        parse_create,
        minimal(backup_strategy={"start_time": "8:00-9:00", "keep_days": True}),
        "backup_strategy.start_time: must be hh:00-HH:00 in UTC, HH one hour after hh (such "
        "as 08:00-09:00). backup_strategy.keep_days: must be a number of days from 1 to 732 "
        '(such as "7").',
        "backup_strategy.start_time: 格式必须为 hh:00-HH:00（UTC 时间），且 HH 比 hh 大 1（例"
        '如 08:00-09:00）。 backup_strategy.keep_days: 必须是 1 到 732 之间的天数（例如 "7"）'
        "。",
    ),
    (
        parse_create,
        minimal(backup_strategy={"keep_days": "1000", "x": 1}),
        "backup_strategy.x: unknown field; allowed fields are keep_days, start_time. "
        "backup_strategy.start_time: is required. backup_strategy.keep_days: must be a "
        'number of days from 1 to 732 (such as "7").',
        "backup_strategy.x: 未知字段；允许的字段为 keep_days, start_time。 "
        "backup_strategy.start_time: 必填。 backup_strategy.keep_days: 必须是 1 到 732 之间的"
        '天数（例如 "7"）。',
    ),
    (
        parse_create,
        minimal(datastore={"type": "mysql", "version": "5.7", "kernel_version": "1.0", "engine": "x"}),
        "datastore.engine: unknown field; allowed fields are kernel_version, type, version. "
        "datastore.type: must be one of gaussdb-mysql. datastore.version: must be one of "
        "8.0.22, 8.0. datastore.kernel_version: must be one of 2.0.28.1.",
        "datastore.engine: 未知字段；允许的字段为 kernel_version, type, version。 "
        "datastore.type: 必须是以下之一：gaussdb-mysql。 datastore.version: 必须是以下之一："
        "8.0.22, 8.0。 datastore.kernel_version: 必须是以下之一：2.0.28.1。",
    ),
    (
        parse_create,
        minimal(datastore={"type": 1}),
        "datastore.type: must be a string. datastore.version: is required.",
        "datastore.type: 必须是字符串。 datastore.version: 必填。",
    ),
    (
        parse_create,
        minimal(datastore=...),
        "datastore: is required.",
        "datastore: 必填。",
    ),
    (
        parse_create,
        minimal(mode="StandSingle", slave_count=1),
        "slave_count: must be 0 for a StandSingle instance.",
        "slave_count: 单机版实例必须为 0。",
    ),
    (
        parse_create,
        minimal(slave_count=10),
        "slave_count: must be an integer from 0 to 9.",
        "slave_count: 必须是 0 到 9 之间的整数。",
    ),
    (
        parse_create,
        minimal(slave_count=...),
        "slave_count: is required.",
        "slave_count: 必填。",
    ),
    (
        parse_create,
        minimal(name="abc", password="short", flavor_ref="big"),
        "name: must be 4-64 characters (at most 64 bytes; a Chinese character takes 3), "
        "starting with a letter or a Chinese character, and hold only letters, digits, "
        "Chinese characters, '-' and '_'. flavor_ref: must be one of "
        "gaussdb.mysql.2xlarge.x86.4, gaussdb.mysql.large.x86.4, gaussdb.mysql.small.x86.2, "
        "gaussdb.mysql.xlarge.x86.4. password: must be 8-32 characters holding at least "
        "three kinds among upper-case letters, lower-case letters, digits and the special "
        "characters ~!@#$%^*-_=+?,()&, and no other characters.",
        "name: 必须为 4-64 个字符（不超过 64 字节，一个中文字符占 3 字节），以字母或中文开头"
        "，只能包含字母、数字、中文、'-' 和 '_'。 flavor_ref: 必须是以下之一："
        "gaussdb.mysql.2xlarge.x86.4, gaussdb.mysql.large.x86.4, gaussdb.mysql.small.x86.2, "
        "gaussdb.mysql.xlarge.x86.4。 password: 必须为 8-32 个字符，至少包含大写字母、小写字"
        "母、数字和特殊字符 ~!@#$%^*-_=+?,()& 中的三类，且不能包含其他字符。",
    ),
    (
        parse_create,
        minimal(name="数据库" * 8, password="alllowercase1", flavor_ref=None),
        "name: must be 4-64 characters (at most 64 bytes; a Chinese character takes 3), "
        "starting with a letter or a Chinese character, and hold only letters, digits, "
        "Chinese characters, '-' and '_'. flavor_ref: is required. password: must be 8-32 "
        "characters holding at least three kinds among upper-case letters, lower-case "
        "letters, digits and the special characters ~!@#$%^*-_=+?,()&, and no other "
        "characters.",
        "name: 必须为 4-64 个字符（不超过 64 字节，一个中文字符占 3 字节），以字母或中文开头"
        "，只能包含字母、数字、中文、'-' 和 '_'。 flavor_ref: 必填。 password: 必须为 8-32 个"
        "字符，至少包含大写字母、小写字母、数字和特殊字符 ~!@#$%^*-_=+?,()& 中的三类，且不能"
        "包含其他字符。",
    ),
    (
        parse_create,
        minimal(
            name="1abc",
            password="Abc123456789012345678901234567890",
            region=" ",
            vpc_id="",
            subnet_id="s" * 129,
        ),
        "name: must be 4-64 characters (at most 64 bytes; a Chinese character takes 3), "
        "starting with a letter or a Chinese character, and hold only letters, digits, "
        "Chinese characters, '-' and '_'. password: must be 8-32 characters holding at least "
        "three kinds among upper-case letters, lower-case letters, digits and the special "
        "characters ~!@#$%^*-_=+?,()&, and no other characters. region: must not be empty. "
        "vpc_id: must not be empty. subnet_id: must be at most 128 characters.",
        "name: 必须为 4-64 个字符（不超过 64 字节，一个中文字符占 3 字节），以字母或中文开头"
        "，只能包含字母、数字、中文、'-' 和 '_'。 password: 必须为 8-32 个字符，至少包含大写"
        "字母、小写字母、数字和特殊字符 ~!@#$%^*-_=+?,()& 中的三类，且不能包含其他字符。 "
        "region: 不能为空。 vpc_id: 不能为空。 subnet_id: 最多 128 个字符。",
    ),
    (
        parse_create,
        minimal(password="Abcdefg1 ", mode="Single", availability_zone_mode="all"),
        "mode: must be one of Cluster, StandSingle. password: must be 8-32 characters "
        "holding at least three kinds among upper-case letters, lower-case letters, digits "
        "and the special characters ~!@#$%^*-_=+?,()&, and no other characters. "
        "availability_zone_mode: must be one of single, multi.",
        "mode: 必须是以下之一：Cluster, StandSingle。 password: 必须为 8-32 个字符，至少包含"
        "大写字母、小写字母、数字和特殊字符 ~!@#$%^*-_=+?,()& 中的三类，且不能包含其他字符。 "
        "availability_zone_mode: 必须是以下之一：single, multi。",
    ),
    (
        parse_create_backup,
        {"instance_id": "bad id", "name": "abc", "description": "a\nb", "x": 1},
        "x: unknown field; allowed fields are description, instance_id, name. instance_id: "
        "not an instance id (1-64 letters, digits, '-' or '_'). name: must be 4-64 "
        "characters (at most 64 bytes; a Chinese character takes 3), starting with a letter "
        "or a Chinese character, and hold only letters, digits, Chinese characters, '-' and "
        "'_'. description: must be a string of at most 256 characters, without line breaks "
        "or any of !<\"='>&.",
        "x: 未知字段；允许的字段为 description, instance_id, name。 instance_id: 不是合法的实"
        "例ID（1-64 个字母、数字、'-' 或 '_'）。 name: 必须为 4-64 个字符（不超过 64 字节，一"
        "个中文字符占 3 字节），以字母或中文开头，只能包含字母、数字、中文、'-' 和 '_'。 "
        "description: 必须是最多 256 个字符的字符串，不能包含换行或 !<\"='>& 中的字符。",
    ),
    (
        parse_create_backup,
        {"instance_id": "i" * 65, "description": "d" * 257},
        "instance_id: must be at most 64 characters. name: is required. description: must be "
        "a string of at most 256 characters, without line breaks or any of !<\"='>&.",
        "instance_id: 最多 64 个字符。 name: 必填。 description: 必须是最多 256 个字符的字符"
        "串，不能包含换行或 !<\"='>& 中的字符。",
    ),
    (
        parse_resize,
        {"resize_flavor": {"spec_code": "huge", "x": 1}, "is_auto_pay": "yes", "delay": "no", "y": 1},
        "y: unknown field; allowed fields are delay, is_auto_pay, resize_flavor. "
        "resize_flavor.x: unknown field; allowed fields are spec_code. "
        "resize_flavor.spec_code: must be one of gaussdb.mysql.2xlarge.x86.4, "
        "gaussdb.mysql.large.x86.4, gaussdb.mysql.small.x86.2, gaussdb.mysql.xlarge.x86.4. "
        "is_auto_pay: must be one of true, false. delay: must be a boolean.",
        "y: 未知字段；允许的字段为 delay, is_auto_pay, resize_flavor。 resize_flavor.x: 未知"
        "字段；允许的字段为 spec_code。 resize_flavor.spec_code: 必须是以下之一："
        "gaussdb.mysql.2xlarge.x86.4, gaussdb.mysql.large.x86.4, gaussdb.mysql.small.x86.2, "
        "gaussdb.mysql.xlarge.x86.4。 is_auto_pay: 必须是以下之一：true, false。 delay: 必须"
        "是布尔值。",
    ),
    (
        parse_resize,
        {"resize_flavor": "small"},
        "resize_flavor: must be an object.",
        "resize_flavor: 必须是对象。",
    ),
    (
        parse_resize,
        {},
        "resize_flavor: is required.",
        "resize_flavor: 必填。",
    ),
    (
        parse_restart,
        {"delay": 1, "now": True},
        "now: unknown field; allowed fields are delay. delay: must be a boolean.",
        "now: 未知字段；允许的字段为 delay。 delay: 必须是布尔值。",
    ),
    (
        parse_password,
        {"password": 12345678, "old": "x"},
        "old: unknown field; allowed fields are password. password: must be a string.",
        "old: 未知字段；允许的字段为 password。 password: 必须是字符串。",
    ),
    (
        parse_password,
        {},
        "password: is required.",
        "password: 必填。",
    ),
    (
        parse_databases,
        {"databases": [], "x": 1},
        "x: unknown field; allowed fields are databases. databases: must hold 1 to 100 items.",
        "x: 未知字段；允许的字段为 databases。 databases: 必须包含 1 到 100 项。",
    ),
    (
        parse_databases,
        {},
        "databases: is required.",
        "databases: 必填。",
    ),
    (
        parse_databases,
        {"databases": [{"name": "d"}] * 101},
        "databases: must be at most 100 items.",
        "databases: 最多 100 项。",
    ),
    (
        parse_databases,
        {
            "databases": [
                None,
                3,
                {"name": "a b", "character_set": "UTF8", "comment": "c" * 513, "users": "u", "x": 1},
                {"character_set": 5},
            ]
        },
        "databases[0]: must be an object. databases[1]: must be an object. databases[2].x: "
        "unknown field; allowed fields are character_set, comment, name, users. "
        "databases[2].name: must be 1-64 letters, digits, '_' or '-' (at most 10 '-'). "
        "databases[2].character_set: must be a character set name such as utf8mb4 or gbk. "
        "databases[2].comment: must be a string of at most 512 characters, without line "
        "breaks or any of !<\"='>&. databases[2].users: must be a list. databases[3].name: "
        "is required. databases[3].character_set: must be a character set name such as "
        "utf8mb4 or gbk.",
        "databases[0]: 必须是对象。 databases[1]: 必须是对象。 databases[2].x: 未知字段；允许"
        "的字段为 character_set, comment, name, users。 databases[2].name: 必须为 1-64 个字母"
        "、数字、'_' 或 '-'（'-' 最多 10 个）。 databases[2].character_set: 必须是字符集名称"
        "，例如 utf8mb4 或 gbk。 databases[2].comment: 必须是最多 512 个字符的字符串，不能包"
        "含换行或 !<\"='>& 中的字符。 databases[2].users: 必须是列表。 databases[3].name: 必"
        "填。 databases[3].character_set: 必须是字符集名称，例如 utf8mb4 或 gbk。",
    ),
    (
        parse_databases,
        {
            "databases": [
                {"name": "d", "character_set": "utf8mb4"},
                {
                    "name": "d",
                    "character_set": "gbk",
                    "users": [
                        None,
                        3,
                        {"name": "u-1", "host": "10.0.0.256", "readonly": "yes", "x": 1},
                        {"host": "%.%.%"},
                    ],
                },
            ]
        },
        "databases[1].name: repeats a database given before. databases[1].users[0]: must be "
        "an object. databases[1].users[1]: must be an object. databases[1].users[2].x: "
        "unknown field; allowed fields are host, name, readonly. databases[1].users[2].name: "
        "must be 1-32 letters, digits or '_'. databases[1].users[2].host: must be an IPv4 "
        "address in which '%' stands for any part (such as 10.10.10.%), or '%'. "
        "databases[1].users[2].readonly: must be a boolean. databases[1].users[3].name: is "
        "required. databases[1].users[3].host: must be an IPv4 address in which '%' stands "
        "for any part (such as 10.10.10.%), or '%'.",
        "databases[1].name: 与前面的数据库重复。 databases[1].users[0]: 必须是对象。 "
        "databases[1].users[1]: 必须是对象。 databases[1].users[2].x: 未知字段；允许的字段为 "
        "host, name, readonly。 databases[1].users[2].name: 必须为 1-32 个字母、数字或 '_'。 "
        "databases[1].users[2].host: 必须是 IPv4 地址（'%' 可代表任一段，例如 10.10.10.%），"
        "或 '%'。 databases[1].users[2].readonly: 必须是布尔值。 databases[1].users[3].name: "
        "必填。 databases[1].users[3].host: 必须是 IPv4 地址（'%' 可代表任一段，例如 "
        "10.10.10.%），或 '%'。",
    ),
    (
        parse_databases,
        {"databases": [{"name": "-" * 11, "character_set": "utf8", "users": [{"name": "u"}] * 51}]},
        "databases[0].name: must be 1-64 letters, digits, '_' or '-' (at most 10 '-'). "
        "databases[0].users: must be at most 50 items.",
        "databases[0].name: 必须为 1-64 个字母、数字、'_' 或 '-'（'-' 最多 10 个）。 "
        "databases[0].users: 最多 50 项。",
    ),
    (
        parse_users,
        {"users": [], "x": 1},
        "x: unknown field; allowed fields are users. users: must hold 1 to 50 items.",
        "x: 未知字段；允许的字段为 users。 users: 必须包含 1 到 50 项。",
    ),
    (
        parse_users,
        {"users": {"name": "u"}},
        "users: must be a list.",
        "users: 必须是列表。",
    ),
    (
        parse_users,
        {
            "users": [
                None,
                3,
                {
                    "name": "u" * 33,
                    "password": "Tc-Passw0rd!",
                    "comment": "c",
                    "hosts": "h",
                    "databases": {},
                    "x": 1,
                },
            ]
        },
        "users[0]: must be an object. users[1]: must be an object. users[2].x: unknown "
        "field; allowed fields are comment, databases, hosts, name, password. users[2].name: "
        "must be 1-32 letters, digits or '_'. users[2].comment: the local driver's MariaDB "
        "keeps no comment on a user; leave it out. users[2].hosts: must be a list. "
        "users[2].databases: must be a list.",
        "users[0]: 必须是对象。 users[1]: 必须是对象。 users[2].x: 未知字段；允许的字段为 "
        "comment, databases, hosts, name, password。 users[2].name: 必须为 1-32 个字母、数字"
        "或 '_'。 users[2].comment: 本地驱动的 MariaDB 不能为用户保存备注；请省略该字段。 "
        "users[2].hosts: 必须是列表。 users[2].databases: 必须是列表。",
    ),
    (
        parse_users,
        {
            "users": [
                {"name": "Tc_Passw0rd", "password": "Tc_Passw0rd"},
                {
                    "name": "u",
                    "password": PASSWORD,
                    "hosts": ["1.2.3", None],
                    "databases": [None, 3, {"name": "a b", "readonly": 1, "x": 1}],
                },
                {"name": "u", "password": PASSWORD},
            ]
        },
        "users[0].password: must differ from the user name. users[1].hosts[0]: must be an "
        "IPv4 address in which '%' stands for any part (such as 10.10.10.%), or '%'. "
        "users[1].hosts[1]: must be an IPv4 address in which '%' stands for any part (such "
        "as 10.10.10.%), or '%'. users[1].databases[0]: must be an object. "
        "users[1].databases[1]: must be an object. users[1].databases[2].x: unknown field; "
        "allowed fields are name, readonly. users[1].databases[2].name: must be 1-64 "
        "letters, digits, '_' or '-' (at most 10 '-'). users[1].databases[2].readonly: must "
        "be a boolean. users[2].name: repeats a user given before; each user may appear once.",
        "users[0].password: 不能与用户名相同。 users[1].hosts[0]: 必须是 IPv4 地址（'%' 可代"
        "表任一段，例如 10.10.10.%），或 '%'。 users[1].hosts[1]: 必须是 IPv4 地址（'%' 可代"
        "表任一段，例如 10.10.10.%），或 '%'。 users[1].databases[0]: 必须是对象。 "
        "users[1].databases[1]: 必须是对象。 users[1].databases[2].x: 未知字段；允许的字段为 "
        "name, readonly。 users[1].databases[2].name: 必须为 1-64 个字母、数字、'_' 或 '-'（"
        "'-' 最多 10 个）。 users[1].databases[2].readonly: 必须是布尔值。 users[2].name: 与"
        "前面的用户重复；每个用户只能出现一次。",
    ),
    (
        parse_users,
        {"users": [{"password": PASSWORD, "hosts": ["%"] * 51, "databases": [{"name": "d"}] * 101}]},
        "users[0].name: is required. users[0].hosts: must be at most 50 items. "
        "users[0].databases: must be at most 100 items.",
        "users[0].name: 必填。 users[0].hosts: 最多 50 项。 users[0].databases: 最多 100 项。",
    ),
    (
        lambda query: parse_flavor_query("mysql", query),
        {},
        "database_name: must be one of gaussdb-mysql. availability_zone_mode: is required.",
        "database_name: 必须是以下之一：gaussdb-mysql。 availability_zone_mode: 必填。",
    ),
    (
        lambda query: parse_flavor_query("gaussdb-mysql", query),
        {"availability_zone_mode": "triple", "version_name": "5.7", "spec_code": "s" * 129},
        "availability_zone_mode: must be one of single, multi. version_name: must be one of "
        "8.0, 8.0.22. spec_code: must be at most 128 characters.",
        "availability_zone_mode: 必须是以下之一：single, multi。 version_name: 必须是以下之一"
        "：8.0, 8.0.22。 spec_code: 最多 128 个字符。",
    ),
    (
        lambda query: parse_flavor_query("GaussDB-MySQL", query),
        {"availability_zone_mode": "single", "spec_code": "a\x00"},
        "spec_code: must not contain the NUL character.",
        "spec_code: 不能包含 NUL 字符。",
    ),
]


@pytest.mark.parametrize(
    ("parse", "given", "english", "chinese"),
    CASES,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(CASES)],
)
def test_a_refused_instance_request_is_answered_in_full_in_both_languages(
    parse: Callable[[Any], object], given: Any, english: str, chinese: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse(given)
    assert caught.value.message() == f"Parameter error. {english}"
    assert caught.value.message("zh-cn") == f"参数错误。 {chinese}"


def test_a_create_with_every_optional_object_keeps_each_and_records_them() -> None:
    create = parse_create(
        minimal(
            name="数据库一",
            charge_info={
                "charge_mode": "postPaid",
                "period_type": "month",
                "period_num": 9,
                "is_auto_renew": "false",
                "is_auto_pay": "true",
            },
            backup_strategy={"start_time": "23:00-00:00", "keep_days": "732"},
            tags=[{"key": "env", "value": "prod"}, {"key": "团队"}],
            restore_point={
                "source_instance_id": INSTANCE_ID,
                "type": "backup",
                "backup_id": "b-1",
                "restore_time": 0,
            },
            tde_info={"enable_tde": False, "encryption_type": "SM4"},
        )
    )
    assert create.name == "数据库一" and create.flavor == FLAVORS[SMALL]
    assert create.backup_strategy == BackupStrategy("23:00-00:00", 732)
    assert create.tags == (Tag("env", "prod"), Tag("团队", ""))
    assert create.restore == RestorePoint(INSTANCE_ID, "b-1")
    assert create.recorded() == {
        "region": "local",
        "vpc_id": "vpc-local",
        "subnet_id": "subnet-local",
        "mode": "Cluster",
        "availability_zone_mode": "single",
        "charge_info": {"charge_mode": "postPaid"},
        "time_zone": "UTC",
        "lower_case_table_names": 1,
        "enable_binlog": False,
        "tags": [{"key": "env", "value": "prod"}, {"key": "团队", "value": ""}],
        "backup_strategy": {"start_time": "23:00-00:00", "keep_days": "732"},
    }
    # The edges of the ranges are inside them.
    edges = parse_create(minimal(backup_strategy={"start_time": "00:00-01:00", "keep_days": 1}))
    assert edges.backup_strategy == BackupStrategy("00:00-01:00", 1)
    assert (
        len(parse_create(minimal(tags=[{"key": f"k{i}", "value": "v" * 43} for i in range(20)])).tags) == 20
    )
    assert parse_create(minimal(name="abcd", password="Ab1~" * 8)).name == "abcd"


def test_databases_keep_their_order_comment_and_grants() -> None:
    body = {
        "databases": [
            {
                "name": "d-1",
                "character_set": "utf8mb4",
                "comment": "c" * 512,
                "users": [{"name": "u_1"}, {"name": "v", "host": "10.0.%.1", "readonly": True}],
            },
            {"name": "e", "character_set": "gbk"},
        ]
    }
    assert parse_databases(body) == (
        NewDatabase("d-1", "utf8mb4", "c" * 512, (Grant("u_1", "%", False), Grant("v", "10.0.%.1", True))),
        NewDatabase("e", "gbk", "", ()),
    )
    assert (
        len(parse_databases({"databases": [{"name": f"d{i}", "character_set": "gbk"} for i in range(100)]}))
        == 100
    )


def test_users_keep_their_hosts_once_each_and_their_rights() -> None:
    body = {
        "users": [
            {
                "name": "u",
                "password": PASSWORD,
                "hosts": ["10.%.0.1", "%", "10.%.0.1"],
                "databases": [{"name": "d"}, {"name": "e", "readonly": True}],
            },
            {"name": "v", "password": "Abcdefg1"},
        ]
    }
    users = parse_users(body)
    assert users == (
        NewUser(
            "u",
            native_password_hash(PASSWORD),
            ("10.%.0.1", "%"),
            (DatabaseRight("d"), DatabaseRight("e", True)),
        ),
        NewUser("v", native_password_hash("Abcdefg1"), ("%",), ()),
    )
    assert [user.password_hash for user in users] == [
        "*15457CCFAC540376AFA1E71E0D1BF0DBB61BEDAA",
        "*3359E422616B0CCD88062D80B570A4282B4AF7DA",
    ]
    assert users[0].grants() == {
        "name": "u",
        "hosts": ["10.%.0.1", "%"],
        "databases": [{"name": "d", "readonly": False}, {"name": "e", "readonly": True}],
    }


def test_the_operations_keep_what_they_are_given() -> None:
    assert parse_resize(
        {"resize_flavor": {"spec_code": SMALL}, "is_auto_pay": "true", "delay": True}
    ) == Resize(FLAVORS[SMALL], True)
    assert parse_resize({"resize_flavor": {"spec_code": SMALL}}) == Resize(FLAVORS[SMALL], False)
    assert parse_restart({}) == Restart(False) and parse_restart({"delay": True}) == Restart(True)
    assert parse_create_backup(
        {"instance_id": INSTANCE_ID, "name": "数据库备份", "description": "d" * 256}
    ) == CreateBackup(INSTANCE_ID, "数据库备份", "d" * 256)
    assert parse_password({"password": "Abcdefg1"}) == "Abcdefg1"
    assert (
        parse_flavor_query(
            "GaussDB-MySQL", {"availability_zone_mode": "MULTI", "version_name": "8.0.22", "spec_code": "x"}
        )
        == "x"
    )
    assert (
        parse_flavor_query("gaussdb-mysql", {"availability_zone_mode": "single", "version_name": "8.0"})
        is None
    )
