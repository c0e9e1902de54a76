"""taskcenter installs where nothing can be compiled, and then answers polls in pure Python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Opens the store a URL names, makes a job and polls it, as GET /v3/{project_id}/jobs?id= does.
POLL = """
import asyncio, sys
from datetime import UTC, datetime
from pathlib import Path
from taskcenter.domain.job import NewJob
from taskcenter.storage.factory import open_store
from taskcenter.storage.polls import readers

async def main(url: str, data: str) -> None:
    store = await open_store(url, Path(data))
    try:
        job, _ = await store.create_job(NewJob("p1", "Job"), datetime(2026, 11, 1, tzinfo=UTC))
        body = await store.show_job("p1", job.id, datetime(2026, 1, 1, tzinfo=UTC))
        print(readers.CHOSEN.name, body.decode())
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.slow
def test_pip_install_with_no_compiler_installs_and_polls_are_answered(tmp_path: Path, pg_url: str) -> None:
    # A copy of the sources alone: the checkout's build/ may hold extensions built earlier, which
    # setuptools would take as up to date rather than compile.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.so", "__pycache__", "*.egg-info", ".*_cache"
        ),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKCENTER_", "PYTHON", "LD_"))}
    no_compiler = env | {"CC": "false", "CXX": "false"}  # every compile and link fails at once
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(source)], env=no_compiler, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    where = "import taskcenter; print(taskcenter.__file__)"
    site = Path(
        subprocess.check_output([python, "-c", where], env=env, cwd=tmp_path, text=True).strip()
    ).parent
    assert site.is_relative_to(venv) and not list(site.rglob("*.so")), "an extension was built"

    for url in (f"sqlite:///{tmp_path / 'taskcenter.db'}", pg_url):
        polled = subprocess.run(
            [python, "-c", POLL, url, str(tmp_path)], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert polled.returncode == 0, polled.stderr
        chosen, body = polled.stdout.strip().split(" ", 1)
        assert chosen == "python"
        job = json.loads(body)["job"]
        assert (job["name"], job["status"], job["created"], job["process"]) == (
            "Job", "Running", "2026-11-01T00:00:00+0000", "0%"
        )  # fmt: skip
