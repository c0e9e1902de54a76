"""Shared pieces of the benchmark scripts: seeding, a server process, and wrk."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

LUA = r"""
local requests = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do
    local path, header_blob = line:match("^([^\t]*)\t?(.*)$")
    local headers = {}
    for name, value in header_blob:gmatch("([^\t:]+): ([^\t]*)") do headers[name] = value end
    n = n + 1
    requests[n] = wrk.format("GET", path, headers)
  end
end
local i = 0
request = function()
  i = i % n + 1
  return requests[i]
end
"""


@dataclass
class WrkResult:
    label: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    steal: float  # the share of CPU time the hypervisor took from this machine during the run

    def row(self) -> str:
        return (
            f"| {self.label} | {self.requests_per_second:,.0f} | {self.p50_ms:.2f} | "
            f"{self.p99_ms:.2f} | {self.non_2xx + self.errors} | {self.steal:.0%} |"
        )


def _cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat's first line); zeros where there is none."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return [0] * 8


def _steal(before: list[int], after: list[int]) -> float:
    total = sum(after) - sum(before)
    return (after[7] - before[7]) / total if total > 0 and len(after) > 7 else 0.0


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def ensure_command(command: str, package: str) -> None:
    """Installs Debian's ``package`` when ``command`` is missing (as root, like CI)."""
    if shutil.which(command) is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True)


def run_wrk(
    label: str, url: str, request_lines: list[str], work: Path, *, connections: int, seconds: int
) -> WrkResult:
    """wrk with keep-alive connections, replaying the given requests round-robin."""
    ensure_command("wrk", "wrk")
    script = work / "replay.lua"
    script.write_text(LUA)
    lines = work / f"{re.sub(r'[^a-z0-9]+', '-', label.lower())}.txt"
    lines.write_text("\n".join(request_lines) + "\n")
    cpu_before = _cpu_times()
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url,
         "--", str(lines)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    steal = _steal(cpu_before, _cpu_times())
    (work / f"{lines.stem}.wrk.txt").write_text(out)
    print(f"--- {label}\n{out}", flush=True)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        label, requests, rps, p50, p99, int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(g) for g in errors.groups()) if errors else 0, steal,
    )  # fmt: skip


class Server:
    """`taskcenter serve` as a separate process, as in production."""

    def __init__(
        self,
        port: int,
        database_url: str,
        data_dir: Path,
        extra_env: dict[str, str],
        *,
        wrapper: tuple[str, ...] = (),
        start_seconds: float = 60,
    ) -> None:
        """``wrapper`` runs the server (valgrind, say); ``start_seconds`` bounds its start."""
        self.url = f"http://127.0.0.1:{port}"
        self.log = data_dir / f"serve-{port}.log"
        env = {**os.environ, "TASKCENTER_LOG_LEVEL": "warning", **extra_env}
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*wrapper, sys.executable, "-m", "taskcenter", "serve", "--port", str(port),
                 "--database-url", database_url, "--data-dir", str(data_dir)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + start_seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"
