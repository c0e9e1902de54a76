"""Running a worker and the maintenance loop beside whatever else the process does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from taskcenter.domain.clock import Clock
from taskcenter.engine.maintenance import Maintenance
from taskcenter.engine.registry import Registry
from taskcenter.engine.worker import Worker, WorkerConfig
from taskcenter.ports.engine import EnginePort

log = logging.getLogger("taskcenter.engine")


@asynccontextmanager
async def engine_running(
    store: EnginePort,
    registry: Registry,
    clock: Clock | None,
    retention: timedelta,
    config: WorkerConfig,
    resources: dict[str, Any] | None = None,
) -> AsyncIterator[Worker]:
    """A worker and maintenance run while the block runs; on exit they stop gracefully.

    ``clock``: None in production, so the store's clock decides leases and leadership.
    """
    worker = Worker(store, registry, clock, config, resources=resources or {})
    maintenance = Maintenance(store, clock, retention, config.maintenance_interval, id=worker.id)
    tasks = [
        asyncio.create_task(worker.run(), name="worker"),
        asyncio.create_task(maintenance.run(), name="maintenance"),
    ]
    try:
        yield worker
    finally:
        worker.stop()
        maintenance.stop()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("engine task ended with an error", exc_info=result)
