"""Handlers the engine tests load into real worker processes with --handlers tests.engine.handlers."""

from __future__ import annotations

import asyncio
import os

import asyncpg

from taskcenter.engine.context import JobContext
from taskcenter.engine.errors import Cancelled, PermanentFailure
from taskcenter.engine.registry import Registry

registry = Registry()
# What TestQuiet handlers went through, by job id (the worker tests run them in their process).
quiet_runs: dict[str, str] = {}


async def _slow(ctx: JobContext) -> None:
    seconds = float(ctx.params.get("seconds", 1))
    steps = 20
    for step in range(steps):
        ctx.check_cancelled()
        await ctx.progress(int(step * 100 / steps))
        await asyncio.sleep(seconds / steps)


@registry.register("TestSlowRetrySafe", retry_safe=True, max_attempts=3)
async def slow_retry_safe(ctx: JobContext) -> None:
    await _slow(ctx)


@registry.register("TestSlowUnsafe")
async def slow_unsafe(ctx: JobContext) -> None:
    await _slow(ctx)


@registry.register("TestAlwaysFails", retry_safe=True, max_attempts=2)
async def always_fails(ctx: JobContext) -> None:
    raise RuntimeError(f"boom on attempt {ctx.attempt}")


@registry.register("TestPermanent", retry_safe=True, max_attempts=5)
async def permanent(ctx: JobContext) -> None:
    raise PermanentFailure("MariaDB is not installed: apt-get install mariadb-server")


@registry.register("TestIgnoresCancel")
async def ignores_cancel(ctx: JobContext) -> None:
    for _ in range(100):
        if ctx.cancel_requested:
            return  # returns normally: must still end Canceled, never Completed
        await asyncio.sleep(0.02)


@registry.register("TestQuiet", retry_safe=True, max_attempts=3)
async def quiet(ctx: JobContext) -> None:
    """Writes nothing while it runs: only the worker's heartbeat can tell it of a cancel request
    or stop it when its lease is lost. Then it writes its progress, once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(ctx.params.get("seconds", 30))
    quiet_runs[ctx.job.id] = "running"
    try:
        while loop.time() < deadline:
            ctx.check_cancelled()
            await asyncio.sleep(0.02)
    except asyncio.CancelledError:
        quiet_runs[ctx.job.id] = "cancelled"
        raise
    except Cancelled:
        quiet_runs[ctx.job.id] = "stopped on a cancel request"
        raise
    quiet_runs[ctx.job.id] = "finished"
    await ctx.progress(50)


@registry.register("ContentionProbe", retry_safe=True)
async def contention_probe(ctx: JobContext) -> None:
    """Records each run; a second run of one job violates the primary key and fails loudly."""
    conn = await asyncpg.connect(os.environ["TASKCENTER_DATABASE_URL"])
    try:
        await conn.execute(
            "INSERT INTO probe_runs (job_id, attempt) VALUES ($1, $2)", ctx.job.id, ctx.attempt
        )
        await asyncio.sleep(float(ctx.params.get("seconds", 0.01)))
    finally:
        await conn.close()
