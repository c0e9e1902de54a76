"""A taken --port stops `taskcenter serve` before it creates anything, saying how to choose another."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import held_port, one_clear_line, taskcenter


def test_a_port_in_use_stops_serve_before_the_store_or_the_admin_exist(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with held_port() as port:
        result = taskcenter("serve", "--port", str(port), "--data-dir", data)

    assert result.returncode == 1
    line = one_clear_line(result.stderr)
    assert f"127.0.0.1:{port}" in line and "already in use" in line
    assert "--port" in line and "TASKCENTER_PORT" in line
    assert "admin account created" not in result.stdout and result.stdout == ""
    assert not data.exists()  # no store file, no instances directory


def test_an_unknown_host_is_one_line_too(tmp_path: Path) -> None:
    result = taskcenter("serve", "--host", "no-such-host.invalid", "--data-dir", tmp_path / "data")
    assert result.returncode == 1
    assert "no-such-host.invalid:8080" in one_clear_line(result.stderr)
    assert not (tmp_path / "data").exists()
