"""Benchmark: GET /v3/{project_id}/jobs?id= while lists of a large project run (SQLite).

One project holding --jobs jobs (500,000 by default: issue 19 §6 measured its lists holding the
event loop 56-77 ms each). Polls of its jobs (wrk, keep-alive, X-Auth-Token) run alone, then
while other clients list the project (GET .../immediate-jobs: its first page, a deep page, a
status filter), in turn for --rounds rounds; the report gives the polls' p99 both ways and the
lists' own latency. A poll should not wait for a list: p99 with lists beside it near p99 alone.

--checkout measures another taskcenter (a checkout of an earlier commit, say, for the numbers
before a change): its bench.get_by_id seeds the database and its `taskcenter serve` answers
(build its C modules there first, scripts/bootstrap, or its polls run on the Python readers).

    .venv/bin/python -m bench.polls_during_lists                       # the full size
    .venv/bin/python -m bench.polls_during_lists --jobs 20000 --seconds 3 --rounds 1   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import Server, WrkResult, machine, run_wrk
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent

# Run with the measured checkout on the path: seeds one project and prints what the driver needs.
SEED = """
import asyncio, json, sys
from pathlib import Path
from bench.get_by_id import seed

projects, jobs = asyncio.run(seed(sys.argv[1], Path(sys.argv[2]), 1, int(sys.argv[3])))
creds = projects[0]
print(json.dumps({"project": creds.project_id, "user": creds.user, "password": creds.password,
                  "jobs": [job for _, job in jobs]}))
"""

LISTS = [
    "limit=10&offset=0",
    "limit=10&offset={deep}",
    "status=Running&limit=50&offset=0",
]


def checkout_env(checkout: Path) -> dict[str, str]:
    """The environment that runs ``checkout``'s taskcenter and bench."""
    return {"PYTHONPATH": os.pathsep.join([str(checkout / "src"), str(checkout)])}


def seed(checkout: Path, database_url: str, work: Path, jobs: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", SEED, database_url, str(work), str(jobs)],
        env={**os.environ, **checkout_env(checkout)},
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seeded: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return seeded


def token(url: str, user: str, password: str) -> str:
    import httpx

    body = {"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"name": user, "password": password}}}}}  # fmt: skip
    response = httpx.post(f"{url}/v3/auth/tokens", json=body, timeout=30)
    response.raise_for_status()
    return response.headers["X-Subject-Token"]


def round_of(
    server: Server, poll_lines: list[str], list_lines: list[str], work: Path, args: argparse.Namespace
) -> list[WrkResult]:
    """Polls alone, then polls with lists beside them (the lists' own run in a thread)."""
    alone = run_wrk(
        "polls alone", server.url, poll_lines, work, connections=args.connections, seconds=args.seconds
    )
    lists: list[WrkResult] = []
    listing = threading.Thread(
        target=lambda: lists.append(
            run_wrk("lists", server.url, list_lines, work, connections=args.listers, seconds=args.seconds)
        )
    )
    listing.start()
    time.sleep(0.2)  # the lists under way before the polls start
    beside = run_wrk(
        "polls while lists run",
        server.url,
        poll_lines,
        work,
        connections=args.connections,
        seconds=args.seconds,
    )
    listing.join()
    return [alone, beside, *lists]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=500_000, help="the jobs of the one project")
    parser.add_argument("--seconds", type=int, default=20, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16, help="polling connections")
    parser.add_argument("--listers", type=int, default=2, help="listing connections")
    parser.add_argument("--requests", type=int, default=10_000, help="distinct polls replayed")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the taskcenter measured")
    args = parser.parse_args()

    checkout = args.checkout.resolve()
    work = Path(tempfile.mkdtemp(prefix="tc-bench-"))
    database_url = f"sqlite:///{work / 'taskcenter.db'}"
    seeded = seed(checkout, database_url, work, args.jobs)
    project, jobs = str(seeded["project"]), list(seeded["jobs"])
    server = Server(free_port(), database_url, work, checkout_env(checkout))
    rounds: list[list[WrkResult]] = []
    try:
        auth = token(server.url, str(seeded["user"]), str(seeded["password"]))
        rng = random.Random(5)
        poll_lines = [
            f"/v3/{project}/jobs?id={jobs[rng.randrange(len(jobs))]}\tX-Auth-Token: {auth}"
            for _ in range(args.requests)
        ]
        deep = max(0, args.jobs - 20) // 10 * 10
        list_lines = [
            f"/v3/{project}/immediate-jobs?{q.format(deep=deep)}\tX-Auth-Token: {auth}" for q in LISTS
        ]
        run_wrk(
            "warm-up",
            server.url,
            poll_lines,
            work,
            connections=args.connections,
            seconds=min(5, args.seconds),
        )
        for _ in range(args.rounds):
            rounds.append(round_of(server, poll_lines, list_lines, work, args))
    finally:
        server.stop()
    report(args, checkout, rounds)


def report(args: argparse.Namespace, checkout: Path, rounds: list[list[WrkResult]]) -> None:
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"\nsqlite, one project of {args.jobs:,} jobs, {args.connections} polling and {args.listers} "
        f"listing connections, {args.seconds} s a run, {args.rounds} rounds; {checkout} at "
        f"{commit or '?'}; {machine()}; {time.strftime('%Y-%m-%d')}\n"
    )
    print("| round | run | requests/s | p50 ms | p99 ms | errors | CPU stolen |")
    print("|---|---|---|---|---|---|---|")
    for number, results in enumerate(rounds, 1):
        for result in results:
            print(f"| {number} {result.row()}")
    print()
    by_label: dict[str, list[WrkResult]] = {}
    for results in rounds:
        for result in results:
            by_label.setdefault(result.label, []).append(result)
    for label, results in by_label.items():
        print(
            f"{label}: median p99 {statistics.median(r.p99_ms for r in results):.2f} ms, median "
            f"{statistics.median(r.requests_per_second for r in results):,.0f} requests/s"
        )


if __name__ == "__main__":
    main()
