"""--version, the environment variables and the config file, with flag > environment > file."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from taskcenter import __version__
from tests.cli.helpers import held_port, one_clear_line, taskcenter


def test_version() -> None:
    result = taskcenter("--version")
    assert result.returncode == 0 and result.stdout == f"taskcenter {__version__}\n"


def test_help_states_the_precedence_and_the_exit_codes() -> None:
    text = " ".join(taskcenter("--help").stdout.split())
    assert "a flag wins over the environment, which wins over the file" in text
    assert "Exit codes: 0 done; 1" in text
    serve_help = taskcenter("serve", "--help").stdout
    for variable in ("TASKCENTER_HOST", "TASKCENTER_PORT", "TASKCENTER_CONFIG"):
        assert variable in serve_help


def refused_port(result_stderr: str) -> int:
    """The port a refused start names (the port-in-use error shows which value won)."""
    return int(one_clear_line(result_stderr).split("127.0.0.1:")[1].split(":")[0])


def test_the_port_comes_from_the_flag_then_the_environment_then_the_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "taskcenter.toml"
    with ExitStack() as stack:
        in_file, in_env, on_flag, top_level = (stack.enter_context(held_port()) for _ in range(4))
        config.write_text(f"port = {top_level}\n[serve]\nport = {in_file}\n")

        def serve(*args: str, env: dict[str, str] | None = None) -> int:
            result = taskcenter("serve", "--data-dir", data, *args, env=env)
            assert result.returncode == 1
            return refused_port(result.stderr)

        assert serve("--config", str(config)) == in_file  # the command's table wins over the top
        assert serve(env={"TASKCENTER_CONFIG": str(config)}) == in_file
        assert serve("--config", str(config), env={"TASKCENTER_PORT": str(in_env)}) == in_env
        assert (
            serve("--config", str(config), "--port", str(on_flag), env={"TASKCENTER_PORT": str(in_env)})
            == on_flag
        )
    assert not data.exists()


def test_the_data_dir_comes_from_the_flag_then_the_environment_then_the_file(tmp_path: Path) -> None:
    stores = {where: tmp_path / where for where in ("file", "env", "flag")}
    for where, data in stores.items():
        assert taskcenter("project", "create", f"from-{where}", "--data-dir", data).returncode == 0
    config = tmp_path / "taskcenter.toml"
    config.write_text(f'data-dir = "{stores["file"]}"\n[project.list]\nformat = "json"\n')

    def listed(*args: str | Path, env: dict[str, str] | None = None) -> list[str]:
        result = taskcenter("project", "list", "--config", config, *args, env=env)
        assert result.returncode == 0, result.stderr
        return [p["name"] for p in json.loads(result.stdout)]

    assert listed() == ["from-file"]
    assert listed(env={"TASKCENTER_DATA_DIR": str(stores["env"])}) == ["from-env"]
    assert listed("--data-dir", stores["flag"], env={"TASKCENTER_DATA_DIR": str(stores["env"])}) == [
        "from-flag"
    ]


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[serve]\nport = "8080"\n', "'serve.port' must be an integer, not a string"),
        ("[serve]\nworkers = 1\n", "'serve.workers' must be true or false, not an integer"),
        ("handlers = 'mod'\n", "'handlers' must be an array of strings"),
        ("[worker]\nport = 8080\n", "unknown key 'worker.port'"),
        ("data_dir = 'x'\n", "unknown key 'data_dir' (did you mean 'data-dir'?)"),
        ("serve = 1\n", "'serve' must be a table"),
        ("[project.list]\nformat = 'xml'\n", "'project.list.format' must be one of table, json"),
        ("config = 'other.toml'\n", "unknown key 'config'"),
        ("port = \n", "is not valid TOML"),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_key(tmp_path: Path, content: str, named: str) -> None:
    config = tmp_path / "taskcenter.toml"
    config.write_text(content)
    result = taskcenter("serve", "--config", config, "--data-dir", tmp_path / "data")
    assert result.returncode == 2
    assert named in one_clear_line(result.stderr) and str(config) in result.stderr
    assert not (tmp_path / "data").exists()


def test_a_missing_config_file_is_refused(tmp_path: Path) -> None:
    result = taskcenter("project", "list", env={"TASKCENTER_CONFIG": str(tmp_path / "none.toml")})
    assert result.returncode == 2 and "cannot be read" in one_clear_line(result.stderr)
