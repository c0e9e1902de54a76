"""A worker's settings are checked when made: each out of its range is refused, naming it."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest

from taskcenter.engine.worker import InvalidConfig, WorkerConfig

# (setting, lowest allowed, highest allowed) as the ranges are documented in the error message.
RANGES = [
    ("concurrency", 1, 1000),
    ("lease", 0.5, 86400),
    ("poll_interval", 0.01, 3600),
    ("grace", 0, 86400),
    ("maintenance_interval", 0.1, 3600),
]


def config(setting: str, value: float) -> WorkerConfig:
    given: Any = timedelta(seconds=value) if setting == "lease" else value
    if setting == "concurrency" and math.isfinite(value):
        given = int(value)
    return WorkerConfig(**{setting: given})


@pytest.mark.parametrize(("setting", "low", "high"), RANGES)
def test_each_setting_is_held_to_its_range(setting: str, low: float, high: float) -> None:
    assert config(setting, low) is not None and config(setting, high) is not None
    below = low - 1 if setting == "concurrency" else low - low / 2 - 0.001
    for bad in (below, high + 1, math.nan, math.inf):
        if setting in ("concurrency", "lease") and not math.isfinite(bad):
            continue  # an int or a timedelta is never NaN or infinite
        with pytest.raises(InvalidConfig) as refused:
            config(setting, bad)
        assert refused.value.setting == setting
        assert str(refused.value).startswith(f"{setting} must be from {low:g} to {high:g}")


def test_the_defaults_are_valid_and_a_zero_lease_is_not() -> None:
    WorkerConfig()
    with pytest.raises(InvalidConfig, match=r"^lease must be from 0\.5 to 86400 seconds, not 0$"):
        WorkerConfig(lease=timedelta(0))
