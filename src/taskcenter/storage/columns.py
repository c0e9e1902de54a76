"""Conversions between domain objects and column values shared by both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from taskcenter.domain.job import SubTask
from taskcenter.domain.wire import sub_task_from_json, sub_task_to_json

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    return (value - EPOCH) // _MICROSECOND


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def opt_from_us(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + timedelta(microseconds=value)


def dump_sub_tasks(sub_tasks: tuple[SubTask, ...]) -> str:
    return orjson.dumps([sub_task_to_json(s) for s in sub_tasks]).decode()


def load_sub_tasks(raw: str | bytes | list[Any]) -> tuple[SubTask, ...]:
    items = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
    return tuple(sub_task_from_json(item) for item in items)


def opt_to_us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)
