"""serve and worker refuse a worker option out of its range at start: exit 2, one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import one_clear_line, taskcenter


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("worker", ["--lease-seconds", "0"], "--lease-seconds must be from 0.5 to 86400 seconds, not 0"),
        (
            "serve",
            ["--lease-seconds", "100000"],
            "--lease-seconds must be from 0.5 to 86400 seconds, not 100000",
        ),
        ("serve", ["--concurrency", "0"], "--concurrency must be from 1 to 1000 jobs, not 0"),
        ("worker", ["--grace-seconds", "-1"], "--grace-seconds must be from 0 to 86400 seconds, not -1"),
        ("serve", ["--check-seconds", "nan"], "--check-seconds must be from 0.1 to 3600 seconds, not nan"),
    ],
)
def test_an_option_out_of_range_stops_the_start(
    tmp_path: Path, command: str, args: list[str], message: str
) -> None:
    result = (
        taskcenter(command, "--data-dir", tmp_path / "data", "--port", "0", *args)
        if command == "serve"
        else taskcenter(command, "--data-dir", tmp_path / "data", *args)
    )
    assert result.returncode == 2, result.stderr
    assert one_clear_line(result.stderr) == f"error: {message}\n"
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_the_environment_is_held_to_the_same_range(tmp_path: Path) -> None:
    result = taskcenter("worker", "--data-dir", tmp_path, env={"TASKCENTER_LEASE_SECONDS": "0"})
    assert result.returncode == 2
    assert (
        one_clear_line(result.stderr) == "error: --lease-seconds must be from 0.5 to 86400 seconds, not 0\n"
    )
