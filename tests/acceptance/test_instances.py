"""The issue's acceptance path: the official SDK drives real MariaDB instances end to end."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pymysql
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkgaussdb.v3 import (
    ChangeGaussMySqlInstanceSpecificationRequest,
    CreateDatabaseList,
    CreateDatabaseUserList,
    CreateDatabaseUserRequest,
    CreateGaussMySqlBackupRequest,
    CreateGaussMySqlDatabase,
    CreateGaussMySqlDatabaseRequest,
    CreateGaussMySqlDatabaseRequestBody,
    CreateGaussMySqlDatabaseUserRequest,
    CreateGaussMySqlInstanceRequest,
    DeleteGaussMySqlInstanceRequest,
    GaussDBClient,
    GaussMySqlDatabaseUser,
    ListGaussMySqlInstancesRequest,
    ListImmediateJobsRequest,
    MysqlBackupStrategy,
    MysqlChangeSpecificationRequest,
    MysqlChargeInfo,
    MysqlCreateBackupRequest,
    MysqlDatastoreInReq,
    MysqlInstanceRequest,
    MysqlResetPasswordRequest,
    MysqlResizeFlavor,
    MysqlRestorePoint,
    MysqlTags,
    ResetGaussMySqlPasswordRequest,
    RestartGaussMySqlInstanceRequest,
    ShowGaussMySqlBackupListRequest,
    ShowGaussMySqlEngineVersionRequest,
    ShowGaussMySqlFlavorsRequest,
    ShowGaussMySqlInstanceInfoRequest,
    ShowGaussMySqlJobInfoRequest,
    TaurusRestartInstanceRequest,
)

from taskcenter.domain.instance import native_password_hash
from tests.acceptance.conftest import Service, start_service, stop_service
from tests.acceptance.test_official_sdk import sdk_client
from tests.support import sign

PASSWORD = "Tc-Passw0rd!"  # the README's examples use it too
README = Path(__file__).parents[2] / "README.md"


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[Service, GaussDBClient]]:
    service = start_service(tmp_path / "data", {"TASKCENTER_ADMIN_PASSWORD": "admin-secret-1"})
    try:
        yield service, sdk_client(service, service.project("acme"))
    finally:
        stop_service(service)
        for server in (tmp_path / "data" / "instances").glob("*/mysqld.pid"):
            _kill(server)


def _kill(pidfile: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pidfile.read_text()), signal.SIGKILL)


def wait_job(client: GaussDBClient, job_id: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job_id)).job
        if job.status == "Completed":
            return job
        assert job.status in ("Pending", "Running"), f"{job.name} {job.status}: {job.fail_reason}"
        assert time.monotonic() < deadline, f"{job.name} still {job.status}"
        time.sleep(0.2)


def create_request(
    name: str, restore: MysqlRestorePoint | None = None, **fields: Any
) -> CreateGaussMySqlInstanceRequest:
    body: dict[str, Any] = {
        "charge_info": MysqlChargeInfo(charge_mode="postPaid"),
        "region": "eu-de",
        "name": name,
        "datastore": MysqlDatastoreInReq(type="gaussdb-mysql", version="8.0.22"),
        "mode": "Cluster",
        "flavor_ref": "gaussdb.mysql.small.x86.2",
        "vpc_id": "vpc-local",
        "subnet_id": "subnet-local",
        "password": PASSWORD,
        "backup_strategy": MysqlBackupStrategy(start_time="08:00-09:00"),
        "availability_zone_mode": "single",
        "slave_count": 0,
        "restore_point": restore,
    }
    return CreateGaussMySqlInstanceRequest(body=MysqlInstanceRequest(**{**body, **fields}))


def connect(endpoint: str, password: str = PASSWORD, **kw: Any) -> pymysql.Connection:
    host, port = endpoint.split(":")
    return pymysql.connect(host=host, port=int(port), user="root", password=password, autocommit=True, **kw)


def endpoint_of(job: Any) -> str:
    return str(orjson.loads(job.raw_content)["job"]["entities"]["instance"]["endpoint"])


def server_settings(endpoint: str, password: str = PASSWORD) -> tuple[Any, ...]:
    """What the running server really has: its time zone, table-name case rule and binary log."""
    with connect(endpoint, password) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@time_zone, @@lower_case_table_names, @@log_bin")
        row = cur.fetchone()
    assert row is not None
    return tuple(row)


def server_pid(service: Service, instance_id: str) -> int:
    return int((service.data_dir / "instances" / instance_id / "mysqld.pid").read_text())


def test_create_backup_restore_restart_resize_delete(cloud: tuple[Service, GaussDBClient]) -> None:
    service, client = cloud
    tags = [MysqlTags(key="env", value="prod"), MysqlTags(key="团队", value="")]
    created = client.create_gauss_my_sql_instance(
        create_request("orders-db", time_zone="UTC+08:00", enable_binlog=True, tags=tags)
    )
    instance_id, job_id = created.instance.id, created.job_id
    assert created.instance.status == "BUILD"
    # BUILD until the create job has ended (a provider waits from BUILD to ACTIVE).
    building = client.show_gauss_my_sql_instance_info(
        ShowGaussMySqlInstanceInfoRequest(instance_id=instance_id)
    )
    assert building.instance.status == "BUILD"
    done = wait_job(client, job_id)
    endpoint = endpoint_of(client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job_id)))
    entities = orjson.loads(
        client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job_id)).raw_content
    )["job"]["entities"]
    assert (
        entities["instance"]["type"] == "Cluster"
        and entities["instance"]["datastore"]["type"] == "gaussdb-mysql"
    )
    assert done.instance.id == instance_id
    # The create request's server options are on the running server (lower_case_table_names: the
    # cloud's default, 1; MariaDB's own is 0).
    assert server_settings(endpoint) == ("+08:00", 1, 1)

    with connect(endpoint) as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE shop")
        cur.execute("CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(20))")
        cur.executemany("INSERT INTO shop.orders VALUES (%s, %s)", [(i, f"item-{i}") for i in range(100)])

    shown = client.show_gauss_my_sql_instance_info(ShowGaussMySqlInstanceInfoRequest(instance_id=instance_id))
    assert shown.instance.status == "ACTIVE" and shown.instance.port == endpoint.split(":")[1]
    listed = client.list_gauss_my_sql_instances(ListGaussMySqlInstancesRequest())
    assert [i.id for i in listed.instances] == [instance_id] and listed.instances[0].private_ips == [
        "127.0.0.1"
    ]
    for answered in (shown.instance, listed.instances[0]):
        assert [(t.key, t.value) for t in answered.tags] == [("env", "prod"), ("团队", "")]
        assert answered.time_zone == "UTC+08:00"

    backup = client.create_gauss_my_sql_backup(
        CreateGaussMySqlBackupRequest(
            body=MysqlCreateBackupRequest(instance_id=instance_id, name="nightly-1")
        )
    )
    wait_job(client, backup.job_id)
    backups = client.show_gauss_my_sql_backup_list(ShowGaussMySqlBackupListRequest(instance_id=instance_id))
    assert (
        backups.total_count == 1 and backups.backups[0].status == "COMPLETED" and backups.backups[0].size > 0
    )

    restore = client.create_gauss_my_sql_instance(
        create_request(
            "orders-copy",
            MysqlRestorePoint(source_instance_id=instance_id, type="backup", backup_id=backup.backup.id),
            lower_case_table_names=0,
        )
    )
    restored = wait_job(client, restore.job_id)
    assert restored.name == "RestoreGaussDBforMySQLNewInstance"
    copy_endpoint = endpoint_of(
        client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=restore.job_id))
    )
    assert copy_endpoint != endpoint
    with connect(copy_endpoint) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), max(item) FROM shop.orders")
        assert cur.fetchone() == (100, "item-99")
    assert server_settings(copy_endpoint) == ("+00:00", 0, 0)  # its own request's, not the source's

    # A restart really restarts: another server process, and a connection from before is gone.
    pid_before = server_pid(service, instance_id)
    held = connect(endpoint)
    restart = client.restart_gauss_my_sql_instance(
        RestartGaussMySqlInstanceRequest(instance_id=instance_id, body=TaurusRestartInstanceRequest())
    )
    wait_job(client, restart.job_id)
    assert server_pid(service, instance_id) != pid_before
    with pytest.raises(pymysql.err.MySQLError):
        held.ping(reconnect=False)
    with connect(endpoint) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM shop.orders")
        assert cur.fetchone() == (100,)

    resize = client.change_gauss_my_sql_instance_specification(
        ChangeGaussMySqlInstanceSpecificationRequest(
            instance_id=instance_id,
            body=MysqlChangeSpecificationRequest(
                resize_flavor=MysqlResizeFlavor(spec_code="gaussdb.mysql.large.x86.4")
            ),
        )
    )
    wait_job(client, resize.job_id)
    with connect(endpoint) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@innodb_buffer_pool_size, @@max_connections")
        assert cur.fetchone() == (128 * 1024 * 1024, 200)
    assert server_settings(endpoint) == ("+08:00", 1, 1)  # the new flavor's settings keep the rest
    detail = client.show_gauss_my_sql_instance_info(
        ShowGaussMySqlInstanceInfoRequest(instance_id=instance_id)
    )
    assert detail.instance.nodes[0].flavor_ref == "gaussdb.mysql.large.x86.4"

    # Every step's job is in the task center, with its sub-tasks.
    jobs = client.list_immediate_jobs(ListImmediateJobsRequest(limit="50")).jobs
    names = {j.job_name for j in jobs}
    assert {
        "CreateGaussDBforMySQLInstance", "CreateGaussDBforMySQLBackup", "RestoreGaussDBforMySQLNewInstance",
        "RebootGaussDBforMySQLInstance", "ResizeGaussDBforMySQLFlavor",
    } <= names  # fmt: skip
    assert all(j.show_detail for j in jobs)
    assert {j.instance_status for j in jobs if j.instance_id == instance_id} == {"normal"}

    for target in (instance_id, restore.instance.id):
        deleted = client.delete_gauss_my_sql_instance(DeleteGaussMySqlInstanceRequest(instance_id=target))
        wait_job(client, deleted.job_id)
    assert client.list_gauss_my_sql_instances(ListGaussMySqlInstancesRequest()).total_count == 0
    assert not any((service.data_dir / "instances").iterdir())
    with pytest.raises(pymysql.err.OperationalError):
        connect(endpoint, connect_timeout=2)


def readme_block(language: str) -> str:
    """The README's create example in ``language``, as a user pastes it."""
    marker = r"<!-- tested by tests/acceptance/test_instances.py[^>]*-->\n"
    blocks: list[str] = re.findall(marker + f"```{language}\n(.*?)\n```", README.read_text(), re.S)
    (block,) = blocks
    return block


def test_databases_users_password_and_discovery(cloud: tuple[Service, GaussDBClient]) -> None:
    service, _ = cloud
    # The instance comes from the README's curl example, pasted as it is, with a token.
    tenant = service.project("readme")
    env = {"TC": service.url, "PROJECT_ID": tenant["project_id"], "TC_USER": tenant["user"],
           "TC_PASSWORD": tenant["password"], "PATH": os.environ["PATH"]}  # fmt: skip
    script = ["bash", "-euo", "pipefail", "-c", readme_block("sh")]
    pasted = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
    assert pasted.returncode == 0, pasted.stderr
    answer = orjson.loads(pasted.stdout)
    assert answer["instance"]["status"] == "BUILD", answer
    client = sdk_client(service, tenant)
    wait_job(client, answer["job_id"])
    instance_id, job_id = answer["instance"]["id"], answer["job_id"]
    endpoint = endpoint_of(client.show_gauss_my_sql_job_info(ShowGaussMySqlJobInfoRequest(id=job_id)))

    # A comment the API accepts reaches the server exactly: '%', a backtick, backslash escapes,
    # Chinese, and a last backslash (once it escaped the statement's closing quote).
    comment = "50% off `sale` \\n 价格 ✓ C:\\dir\\"
    job = client.create_gauss_my_sql_database(
        CreateGaussMySqlDatabaseRequest(
            instance_id=instance_id,
            body=CreateGaussMySqlDatabaseRequestBody(
                databases=[
                    CreateGaussMySqlDatabase(name="inventory", character_set="utf8mb4", comment=comment)
                ]
            ),
        )
    )
    wait_job(client, job.job_id)
    job = client.create_gauss_my_sql_database_user(
        CreateGaussMySqlDatabaseUserRequest(
            instance_id=instance_id,
            body=CreateDatabaseUserRequest(
                users=[
                    CreateDatabaseUserList(
                        name="app", password="App-Passw0rd", hosts=["127.0.0.1", "10.0.%.%"],
                        databases=[CreateDatabaseList(name="inventory", readonly=True)],
                    )
                ]
            ),
        )
    )  # fmt: skip
    wait_job(client, job.job_id)
    # A database that names its users: the rights are given as it is created.
    job = client.create_gauss_my_sql_database(
        CreateGaussMySqlDatabaseRequest(
            instance_id=instance_id,
            body=CreateGaussMySqlDatabaseRequestBody(
                databases=[
                    CreateGaussMySqlDatabase(
                        name="app-logs", character_set="gbk", comment="%",
                        users=[GaussMySqlDatabaseUser(name="app", host="127.0.0.1", readonly=False)],
                    )
                ]
            ),
        )
    )  # fmt: skip
    wait_job(client, job.job_id)
    with connect(endpoint) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, SCHEMA_COMMENT FROM information_schema.SCHEMATA"
            " WHERE SCHEMA_NAME IN ('inventory', 'app-logs') ORDER BY SCHEMA_NAME"
        )
        assert cur.fetchall() == (("app-logs", "gbk", "%"), ("inventory", "utf8mb4", comment))
        cur.execute("SELECT Host, authentication_string FROM mysql.user WHERE User = 'app' ORDER BY Host")
        app_hash = native_password_hash("App-Passw0rd")
        assert cur.fetchall() == (("10.0.%.%", app_hash), ("127.0.0.1", app_hash))
    host, port = endpoint.split(":")
    app = pymysql.connect(
        host=host, port=int(port), user="app", password="App-Passw0rd", database="inventory"
    )
    with app, app.cursor() as cur:
        with pytest.raises(pymysql.err.OperationalError, match="denied"):
            cur.execute("CREATE TABLE inventory.items (id INT)")  # read-only there
        cur.execute("CREATE TABLE `app-logs`.lines (id INT)")

    client.reset_gauss_my_sql_password(
        ResetGaussMySqlPasswordRequest(
            instance_id=instance_id, body=MysqlResetPasswordRequest(password="New-Passw0rd")
        )
    )
    with connect(endpoint, "New-Passw0rd") as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE 'inventory'")
        assert cur.fetchone() == ("inventory",)
    with pytest.raises(pymysql.err.OperationalError):
        connect(endpoint)

    flavors = client.show_gauss_my_sql_flavors(
        ShowGaussMySqlFlavorsRequest(database_name="gaussdb-mysql", availability_zone_mode="single")
    )
    assert "gaussdb.mysql.small.x86.2" in {f.spec_code for f in flavors.flavors}
    versions = client.show_gauss_my_sql_engine_version(
        ShowGaussMySqlEngineVersionRequest(database_name="gaussdb-mysql")
    )
    assert versions.datastores[0].version == "8.0.22"

    # Passwords never reach jobs, events, answers or logs.
    log = service.log.read_text()
    for secret in (PASSWORD, "App-Passw0rd", "New-Passw0rd"):
        assert secret not in log
    db = (service.data_dir / "taskcenter.db").read_bytes()
    for secret in (PASSWORD, "App-Passw0rd", "New-Passw0rd"):
        assert secret.encode() not in db
    # Even the password hashes the jobs needed are gone once the jobs ended.
    import sqlite3

    jobs_db = sqlite3.connect(service.data_dir / "taskcenter.db")
    params = [row[0] for row in jobs_db.execute("SELECT params FROM jobs")]
    jobs_db.close()
    assert len(params) == 4 and not any("secrets" in p or "*" in p for p in params)


def test_validation_and_one_operation_at_a_time(cloud: tuple[Service, GaussDBClient]) -> None:
    service, client = cloud
    for field, value in (
        ("name", "x"),
        ("password", "weak"),
        ("flavor_ref", "gaussdb.mysql.huge"),
        ("region", ""),
        ("slave_count", 2),
        ("backup_strategy", MysqlBackupStrategy(start_time="garbage")),
        ("time_zone", "Asia/Shanghai"),
        ("lower_case_table_names", 2),
        ("tags", [MysqlTags(key="bad key", value="v")]),
    ):
        request = create_request("valid-name")
        setattr(request.body, field, value)
        with pytest.raises(ClientRequestException) as error:
            client.create_gauss_my_sql_instance(request)
        assert error.value.status_code == 400 and f"{field}" in error.value.error_msg
    # Every problem of a request at once, and whole messages in Chinese.
    request = create_request("x", region="", slave_count=2, time_zone="UTC+8")
    request.x_language = "zh-cn"
    with pytest.raises(ClientRequestException) as error:
        client.create_gauss_my_sql_instance(request)
    message = error.value.error_msg
    assert all(f"{f}:" in message for f in ("name", "region", "slave_count", "time_zone")), message
    assert "暂不能创建只读节点" in message and "must" not in message
    assert client.list_immediate_jobs(ListImmediateJobsRequest()).total_count == 0  # no job made
    assert client.list_gauss_my_sql_instances(ListGaussMySqlInstancesRequest()).total_count == 0

    # Bodies whose wrong types once answered 500 name the field (checked before the instance is).
    tenant = service.project("probe")
    for path, body, field in (
        ("db-users", {"users": [{"name": "u1", "password": "App-Passw0rd", "databases": True}]},
         "users[0].databases"),
        ("databases", {"databases": [{"name": "shop", "character_set": "utf8mb4", "users": 1}]},
         "databases[0].users"),
        ("restart", {"delay": "tonight"}, "delay"),
        ("action", {"resize_flavor": "large"}, "resize_flavor"),
        ("password", {"password": ["New-Passw0rd"]}, "password"),
    ):  # fmt: skip
        url = f"{service.url}/v3/{tenant['project_id']}/instances/no-such-instance/{path}"
        raw = orjson.dumps(body)
        headers = sign(tenant["access_key"], tenant["secret_key"], "POST", url, raw)
        answer = httpx.post(url, content=raw, headers=headers)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error_code"] == "DBS.200001" and f"{field}:" in answer.json()["error_msg"]

    # The README's SDK example, as pasted (only the endpoint is this test's).
    namespace: dict[str, Any] = {
        "ak": tenant["access_key"],
        "sk": tenant["secret_key"],
        "project_id": tenant["project_id"],
    }
    exec(readme_block("python").replace("http://127.0.0.1:8080", service.url), namespace)
    created, client = namespace["created"], namespace["client"]
    assert created.instance.status == "BUILD"
    with pytest.raises(ClientRequestException) as busy:
        client.delete_gauss_my_sql_instance(DeleteGaussMySqlInstanceRequest(instance_id=created.instance.id))
    assert busy.value.status_code == 409 and busy.value.error_code == "DBS.200019"
    wait_job(client, created.job_id)
    client.delete_gauss_my_sql_instance(DeleteGaussMySqlInstanceRequest(instance_id=created.instance.id))


def test_several_creates_at_once(cloud: tuple[Service, GaussDBClient]) -> None:
    """Concurrent bootstraps once clashed over temporary files in a shared /tmp."""
    from concurrent.futures import ThreadPoolExecutor

    _, client = cloud
    answers = [client.create_gauss_my_sql_instance(create_request(f"parallel-{i}")) for i in range(3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda a: wait_job(client, a.job_id), answers))
    ports = {
        client.show_gauss_my_sql_instance_info(
            ShowGaussMySqlInstanceInfoRequest(instance_id=a.instance.id)
        ).instance.port
        for a in answers
    }
    assert len(ports) == 3
