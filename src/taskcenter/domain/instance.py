"""TaurusDB instances as taskcenter runs them: one MariaDB server each, and the flavor catalog."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from taskcenter.domain.job import Job
from taskcenter.domain.problems import Problems, bad
from taskcenter.domain.status import JobStatus

DATASTORE = "gaussdb-mysql"
# The cloud's version triple; taskcenter serves it with MariaDB (MySQL-compatible).
ENGINE_VERSION = {"id": "gaussdb-mysql-8.0", "name": "8.0", "version": "8.0.22", "kernel_version": "2.0.28.1"}


class InstanceStatus:
    # What is stored, in the vocabulary of the v3.1 "unify status" APIs and of
    # TaskDetailInfo/ScheduleTask.instance_status; "abnormal" is derived on read (the server of
    # a normal instance is not running). The v3 instance APIs show V3Status instead.
    CREATING = "creating"
    NORMAL = "normal"
    ABNORMAL = "abnormal"
    CREATEFAIL = "createfail"
    DELETED = "deleted"


class V3Status:
    """The values MysqlInstanceInfoDetail.status documents, as the v3 instance APIs show them.

    Clients wait on them: the Terraform provider's create waits from BUILD to ACTIVE, and its
    delete waits through ACTIVE, BACKING UP or FAILED to the instance's not-found.
    """

    BUILD = "BUILD"
    ACTIVE = "ACTIVE"
    # Documented as "creation failed" in the SDK and as "abnormal" in the API reference:
    # the v3 vocabulary has no other word for a server that is down.
    FAILED = "FAILED"
    REBOOTING = "REBOOTING"
    MODIFYING = "MODIFYING"
    BACKING_UP = "BACKING UP"
    # Nodes only (MysqlInstanceNodeInfo.status), as the SDK documents node states elsewhere
    # (MysqlProxyNodes): a node whose server is down.
    ABNORMAL = "ABNORMAL"


# The v3 status of an instance while one of its operations is under way; the others (delete,
# databases, users) leave it as it is, as on the cloud.
_V3_OPERATIONS = {
    "CreateGaussDBforMySQLInstance": V3Status.BUILD,
    "RestoreGaussDBforMySQLNewInstance": V3Status.BUILD,
    "RebootGaussDBforMySQLInstance": V3Status.REBOOTING,
    "ResizeGaussDBforMySQLFlavor": V3Status.MODIFYING,
    "CreateGaussDBforMySQLBackup": V3Status.BACKING_UP,
}
_V3_AT_REST = {
    InstanceStatus.CREATING: V3Status.BUILD,
    InstanceStatus.NORMAL: V3Status.ACTIVE,
    InstanceStatus.ABNORMAL: V3Status.FAILED,
    InstanceStatus.CREATEFAIL: V3Status.FAILED,
}


@dataclass(frozen=True, slots=True)
class ShownStatus:
    """An instance's status in each vocabulary its answers use."""

    unify: str  # InstanceStatus: v3.1 unify-status APIs, instance_status of the job lists
    v3: str  # V3Status: the v3 instance APIs
    node: str  # nodes[].status

    @property
    def up(self) -> bool:
        """Whether the instance has a server (its addresses and times are shown)."""
        return self.unify not in (InstanceStatus.CREATING, InstanceStatus.CREATEFAIL)


def under_way(job: Job, now: datetime) -> bool:
    """Whether ``job`` is working on its instance now: running, or due (not waiting for its
    maintenance window)."""
    return job.status is JobStatus.RUNNING or (job.run_at is None or job.run_at <= now)


def shown_status(live: str, operation: str | None) -> ShownStatus:
    """The statuses shown for an instance whose stored-or-derived status is ``live``
    (InstanceStatus) while the job ``operation`` (a job name) is under way on it, if any."""
    v3 = _V3_AT_REST.get(live, V3Status.FAILED)
    if live in (InstanceStatus.NORMAL, InstanceStatus.ABNORMAL) and operation in _V3_OPERATIONS:
        v3 = _V3_OPERATIONS[operation]
    node = V3Status.ABNORMAL if live == InstanceStatus.ABNORMAL and v3 == V3Status.FAILED else v3
    return ShownStatus(live, v3, node)


@dataclass(frozen=True, slots=True)
class Flavor:
    spec_code: str
    vcpus: int
    ram_gb: int
    # What the flavor means for the real server: memory for InnoDB and connection slots.
    buffer_pool_mb: int
    max_connections: int

    @property
    def id(self) -> str:
        return hashlib.sha1(self.spec_code.encode(), usedforsecurity=False).hexdigest()[:32]


# Real servers on a small machine: the buffer pool is scaled down from the flavor's RAM.
FLAVORS = {
    f.spec_code: f
    for f in (
        Flavor("gaussdb.mysql.small.x86.2", 1, 2, 64, 100),
        Flavor("gaussdb.mysql.large.x86.4", 2, 8, 128, 200),
        Flavor("gaussdb.mysql.xlarge.x86.4", 4, 16, 256, 400),
        Flavor("gaussdb.mysql.2xlarge.x86.4", 8, 32, 512, 800),
    )
}


@dataclass(frozen=True, slots=True)
class DbInstance:
    id: str
    project_id: str
    name: str
    status: str
    flavor_ref: str
    created: datetime
    updated: datetime
    port: int | None = None
    # The create request's descriptive fields, echoed back as the cloud does (never secrets).
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def flavor(self) -> Flavor:
        return FLAVORS[self.flavor_ref]

    # What the create request asked of the server itself, as recorded with the instance. An
    # instance recorded before these were kept (or with a value the cloud would refuse) gets
    # none of them, so its server keeps the settings it was initialised with.
    @property
    def utc_offset(self) -> str | None:
        time_zone = self.request.get("time_zone")
        return utc_offset(time_zone) if isinstance(time_zone, str) else None

    @property
    def lower_case_table_names(self) -> int | None:
        value = self.request.get("lower_case_table_names")
        return value if value in (0, 1) and not isinstance(value, bool) else None

    @property
    def binlog(self) -> bool:
        return self.request.get("enable_binlog") is True


_INSTANCE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def parse_instance_id(field: str, value: str, problems: Problems | None = None) -> str:
    """An instance id as a client may write one; whether it exists is the store's to say.

    With ``problems`` a wrong id is added there (and returned as it is); without, it is raised.
    """
    if not _INSTANCE_ID.fullmatch(value):
        why = ("not an instance id (1-64 letters, digits, '-' or '_').",
               "不是合法的实例ID（1-64 个字母、数字、'-' 或 '_'）。")  # fmt: skip
        if problems is None:
            raise bad(field, *why)
        problems.add(field, *why)
    return value


# The cloud writes a time zone as UTC or UTC+08:00, whole hours from UTC-12:00 to UTC+12:00.
_TIME_ZONE = re.compile(r"UTC(?:([+-])([0-9]{2}):00)?")
DEFAULT_TIME_ZONE = "UTC"
# The cloud's default for new instances; servers created before it was recorded keep MariaDB's (0).
DEFAULT_LOWER_CASE_TABLE_NAMES = 1


def utc_offset(time_zone: str) -> str | None:
    """The server's offset for a time zone in the cloud's format ('UTC+08:00' -> '+08:00'), or None."""
    match = _TIME_ZONE.fullmatch(time_zone)
    if match is None:
        return None
    sign, hours = match.groups()
    if sign is None:
        return "+00:00"
    if int(hours) > 12:
        return None
    return f"{sign}{hours}:00"


def native_password_hash(password: str) -> str:
    """MySQL's mysql_native_password hash, so the plain password is never stored or queued."""
    inner = hashlib.sha1(password.encode(), usedforsecurity=False).digest()
    return "*" + hashlib.sha1(inner, usedforsecurity=False).hexdigest().upper()


@dataclass(frozen=True, slots=True)
class Backup:
    id: str
    project_id: str
    instance_id: str
    name: str
    status: str  # BUILDING, COMPLETED, FAILED
    begin: datetime
    description: str = ""
    size_bytes: int = 0
    end: datetime | None = None
