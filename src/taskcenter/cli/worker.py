"""`taskcenter worker`: a standalone worker and its share of maintenance."""

from __future__ import annotations

from datetime import timedelta

import uvloop

from taskcenter import wiring
from taskcenter.cli.options import (
    DEFAULT_DATA_DIR,
    CheckSeconds,
    Concurrency,
    ConfigFile,
    DatabaseUrl,
    DataDir,
    GraceSeconds,
    Handlers,
    LeaseSeconds,
    LogLevel,
    RetentionDays,
    load_handlers,
    setup_logging,
    worker_config,
)
from taskcenter.cli.store import check_store


def worker(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    retention_days: RetentionDays = 30,
    handlers: Handlers = None,
    concurrency: Concurrency = 10,
    lease_seconds: LeaseSeconds = 30,
    grace_seconds: GraceSeconds = 30.0,
    check_seconds: CheckSeconds = 5.0,
    log_level: LogLevel = "info",
    config_file: ConfigFile = None,
) -> None:
    """Run a standalone worker (and its share of maintenance); any number may share PostgreSQL.

    Like serve, it says at stop how many MariaDB instance servers keep running.
    """
    setup_logging(log_level)
    config = worker_config(concurrency, lease_seconds, grace_seconds, check_seconds)
    registry = load_handlers(handlers)
    where = check_store(database_url, data_dir)
    uvloop.run(
        wiring.run_worker(
            lambda: wiring.open_store(database_url, data_dir),
            registry=registry,
            retention=timedelta(days=retention_days),
            engine=config,
            instances_root=data_dir.resolve() / "instances",
            where=where,
        )
    )
