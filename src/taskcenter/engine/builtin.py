"""Handlers every taskcenter has: for smoke tests, demos and benchmarks."""

from __future__ import annotations

import asyncio

from taskcenter.engine.context import JobContext
from taskcenter.engine.registry import Registry

registry = Registry()


@registry.register("TaskcenterNoop", retry_safe=True)
async def noop(ctx: JobContext) -> None:
    """Does nothing: measures the engine itself."""


@registry.register("TaskcenterSleep", retry_safe=True)
async def sleep(ctx: JobContext) -> None:
    """Sleeps ``params.seconds`` (default 1) in ten steps, reporting progress; stops on cancel."""
    seconds = float(ctx.params.get("seconds", 1))
    for step in range(10):
        ctx.check_cancelled()
        await ctx.sub_task("sleep", step * 10, "Running", int(seconds * (10 - step) / 10))
        await ctx.progress(step * 10)
        await asyncio.sleep(seconds / 10)
    await ctx.sub_task("sleep", 100, "Completed", 0)
