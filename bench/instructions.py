"""Instructions per request of the server process: /health, and GET-by-id with a token and AK/SK.

Counted by valgrind's callgrind, which counts instructions, not time: the same code and inputs
give the same count whatever else the machine is doing (the polls' batch sizes, and so their
share of each batch's work, still follow the timing: a few percent). Requests/s on a shared VM
are not like that (BENCHMARKS.md: the same server's /health moves by a quarter within minutes), so this is
how a change to the request path is compared before and after. It is not the issue's target:
only the server's own user-space instructions count, not the kernel's work for its system calls,
not the database server's, and not time spent waiting.

    .venv/bin/python -m bench.instructions --engine sqlite
    .venv/bin/python -m bench.instructions --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import Server, ensure_command, machine, run_wrk
from bench.get_by_id import seed, signed_lines, token_for
from tests.support import create_pg_database, drop_pg_database, free_port

# Instruction counting is switched on only around each measured run (callgrind_control -i).
VALGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no")


def counted(server: Server, work: Path) -> int:
    """Dumps the instructions counted since the last dump; their total."""
    before = set(work.glob("callgrind.out.*"))
    subprocess.run(["callgrind_control", "--dump", str(server.process.pid)], check=True, capture_output=True)
    total = 0
    for dump in set(work.glob("callgrind.out.*")) - before:
        text = dump.read_text(errors="replace")
        total += max(
            (int(n) for n in re.findall(r"^(?:summary|totals): (\d+)$", text, re.MULTILINE)), default=0
        )
    return total


def measure(
    server: Server, work: Path, label: str, lines: list[str], args: argparse.Namespace
) -> tuple[int, int]:
    """(requests, instructions) of one wrk run with counting on."""
    pid = str(server.process.pid)
    subprocess.run(["callgrind_control", "--instr=on", pid], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
    result = run_wrk(label, server.url, lines, work, connections=args.connections, seconds=args.seconds)
    instructions = counted(server, work)
    subprocess.run(["callgrind_control", "--instr=off", pid], check=True, capture_output=True)
    return result.requests, instructions


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument(
        "--projects", type=int, default=3, help="each costs a password check, slow under valgrind"
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2_000, help="distinct requests replayed")
    args = parser.parse_args()
    ensure_command("callgrind_control", "valgrind")

    work = Path(tempfile.mkdtemp(prefix="tc-instructions-"))
    if args.engine == "sqlite":
        database_url = f"sqlite:///{work / 'taskcenter.db'}"
    else:
        database_url = asyncio.run(create_pg_database())
    rows: list[tuple[str, int, int]] = []
    try:
        projects, jobs = asyncio.run(seed(database_url, work, args.projects, args.jobs))
        wrapper = (*VALGRIND, f"--callgrind-out-file={work}/callgrind.out.%p")
        server = Server(free_port(), database_url, work, {}, wrapper=wrapper, start_seconds=600)
        try:
            tokens = {p.project_id: token_for(server.url, p) for p in projects}
            rng = random.Random(11)
            sample = [jobs[rng.randrange(len(jobs))] for _ in range(args.requests)]
            runs = {
                "/health": ["/health"],
                "GET job by id, X-Auth-Token": [
                    f"/v3/{project}/jobs?id={job}\tX-Auth-Token: {tokens[project]}" for project, job in sample
                ],
                "GET job by id, AK/SK signed": signed_lines(
                    server.url, sample, {p.project_id: p for p in projects}
                ),
            }
            for lines in runs.values():  # warm-up, not counted: first calls and cold pages
                run_wrk("warm-up", server.url, lines, work, connections=args.connections, seconds=5)
            for label, lines in [*runs.items(), *runs.items()]:  # twice, to show it repeats
                rows.append((label, *measure(server, work, label, lines, args)))
        finally:
            server.stop()
    finally:
        if args.engine == "postgres":
            asyncio.run(drop_pg_database(database_url))

    print(
        f"\n{args.engine}, {args.jobs:,} jobs, {args.connections} connections, {args.seconds} s under "
        f"callgrind; {machine()}; {time.strftime('%Y-%m-%d')}\n"
    )
    print("| run | requests | instructions per request | vs /health |")
    print("|---|---|---|---|")
    health = [instructions / requests for label, requests, instructions in rows if label == "/health"]
    baseline = sum(health) / len(health)
    for label, requests, instructions in rows:
        per_request = instructions / requests
        print(f"| {label} | {requests:,} | {per_request:,.0f} | {per_request / baseline:.2f}x |")


if __name__ == "__main__":
    main()
