"""Benchmark: GET /v3/{project_id}/jobs?id= against the same server's /health.

1,000,000 jobs across 100 projects; keep-alive, 32 connections, 20 s per run (wrk), after a
5 s warm-up; once with X-Auth-Token, once with AK/SK-signed requests (pre-signed by this
script), each between two /health runs; three rounds of these five runs by default.
Target: GET-by-id >= 0.8x /health throughput, p99 <= 10 ms.

Each round runs the five once per path of the poll lookups, each on a server of its own: the C
readers (c) and their pure-Python twin (python, a server with TASKCENTER_PURE_PYTHON=1), and the
report sets them side by side. --paths c (or python) measures one.

    .venv/bin/python -m bench.get_by_id --engine sqlite
    .venv/bin/python -m bench.get_by_id --engine postgres   # a new database on TASKCENTER_TEST_PG
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from bench.common import Server, WrkResult, machine, run_wrk
from taskcenter.identity.accounts import Credentials, create_project
from taskcenter.storage.factory import open_store
from tests.support import create_pg_database, drop_pg_database, free_port, sign

STATUSES = ["Completed"] * 7 + ["Failed", "Running", "Pending"]
NAMES = ["CreateGaussDBforMySQLInstance", "RebootGaussDBforMySQLInstance", "ResizeGaussDBforMySQLFlavor"]

JobRow = tuple[str, str, str, str, datetime, datetime | None, datetime | None, int, str, str, str, str]
"""A seeded job: id, project_id, name, status, created_at, started_at, ended_at, progress,
instance_id, instance_name, entities, fail_reason (the columns both loads write, in order)."""


def job_rows(projects: list[Credentials], count: int, now: datetime) -> list[JobRow]:
    rng = random.Random(7)
    rows: list[JobRow] = []
    for i in range(count):
        status = STATUSES[i % len(STATUSES)]
        created = now - timedelta(seconds=count - i)
        final = status in ("Completed", "Failed")
        rows.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                projects[i % len(projects)].project_id,
                NAMES[i % len(NAMES)],
                status,
                created,
                None if status == "Pending" else created,
                created + timedelta(seconds=30) if final else None,
                100 if status == "Completed" else 40,
                f"inst{i % 5000:05d}",
                f"db-{i % 5000}",
                '{"instance": {"endpoint": "127.0.0.1:3306", "type": "Cluster"}}',
                "Server did not start" if status == "Failed" else "",
            )
        )
    return rows


async def seed(
    database_url: str, data_dir: Path, project_count: int, job_count: int
) -> tuple[list[Credentials], list[tuple[str, str]]]:
    store = await open_store(database_url, data_dir)
    try:
        projects = [await create_project(store, f"bench-{i:03d}") for i in range(project_count)]
    finally:
        await store.close()
    rows = job_rows(projects, job_count, datetime.now(UTC))
    started = time.monotonic()
    if database_url.startswith("sqlite:///"):
        load_sqlite(database_url.removeprefix("sqlite:///"), rows)
    else:
        await load_postgres(database_url, rows)
    print(f"seeded {job_count:,} jobs in {time.monotonic() - started:.1f}s")
    return projects, [(r[1], r[0]) for r in rows]


def load_sqlite(path: str, rows: list[JobRow]) -> None:
    def us(moment: datetime | None) -> int | None:
        return None if moment is None else int(moment.timestamp() * 1_000_000)

    conn = sqlite3.connect(path)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO jobs (id, project_id, name, status, created_at, started_at, ended_at, progress, "
        "instance_id, instance_name, entities, fail_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        ((r[0], r[1], r[2], r[3], us(r[4]), us(r[5]), us(r[6]), *r[7:]) for r in rows),
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(url: str, rows: list[JobRow]) -> None:
    conn = await asyncpg.connect(url)
    await conn.copy_records_to_table(
        "jobs",
        records=[(uuid.UUID(r[0]), *r[1:]) for r in rows],
        columns=["id", "project_id", "name", "status", "created_at", "started_at", "ended_at",
                 "progress", "instance_id", "instance_name", "entities", "fail_reason"],
    )  # fmt: skip
    # What autovacuum does soon after a bulk load: statistics, hint bits, visibility map.
    await conn.execute("VACUUM ANALYZE jobs")
    await conn.close()


def token_for(url: str, creds: Credentials) -> str:
    body = {"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"name": creds.user, "password": creds.password}}}}}  # fmt: skip
    response = httpx.post(f"{url}/v3/auth/tokens", json=body, timeout=30)
    response.raise_for_status()
    return response.headers["X-Subject-Token"]


def signed_lines(url: str, sample: list[tuple[str, str]], by_project: dict[str, Credentials]) -> list[str]:
    """The sampled polls signed now by the official SDK's Signer (X-Sdk-Date must stay fresh)."""
    lines = []
    for project, job in sample:
        creds = by_project[project]
        path = f"/v3/{project}/jobs?id={job}"
        headers = sign(creds.access_key, creds.secret_key, "GET", url + path,
                       headers={"X-Project-Id": project})  # fmt: skip
        lines.append(path + "\t" + "\t".join(f"{k}: {v}" for k, v in headers.items()))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20_000, help="distinct requests replayed")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of the five runs")
    parser.add_argument(
        "--paths", default="c,python", help="the poll readers measured, side by side: c, python or c,python"
    )
    args = parser.parse_args()
    paths = args.paths.split(",")
    if not paths or not set(paths) <= set(PATHS):
        parser.error(f"--paths takes {', '.join(PATHS)} or both, comma-separated")

    work = Path(tempfile.mkdtemp(prefix="tc-bench-"))
    if args.engine == "sqlite":
        database_url = f"sqlite:///{work / 'taskcenter.db'}"
    else:
        database_url = asyncio.run(create_pg_database())
    rounds: list[list[WrkResult]] = []
    try:
        projects, jobs = asyncio.run(seed(database_url, work, args.projects, args.jobs))
        by_project = {p.project_id: p for p in projects}
        rng = random.Random(11)
        sample = [jobs[rng.randrange(len(jobs))] for _ in range(args.requests)]
        tokens: dict[str, str] = {}
        for _ in range(args.rounds):
            for path in paths:
                server = Server(free_port(), database_url, work, PATHS[path])
                try:
                    tokens = tokens or {p.project_id: token_for(server.url, p) for p in projects}
                    rounds.append(measure(server, path, sample, tokens, by_project, work, args))
                finally:
                    server.stop()
    finally:
        if args.engine == "postgres":
            asyncio.run(drop_pg_database(database_url))
    report(args, rounds)


# The environment of a server whose poll lookups take each path (storage/poll_readers.py).
PATHS = {"c": {"TASKCENTER_PURE_PYTHON": "0"}, "python": {"TASKCENTER_PURE_PYTHON": "1"}}


def measure(
    server: Server,
    path: str,
    sample: list[tuple[str, str]],
    tokens: dict[str, str],
    by_project: dict[str, Credentials],
    work: Path,
    args: argparse.Namespace,
) -> list[WrkResult]:
    """The five runs of a round against one server, labelled with its path."""
    token_lines = [f"/v3/{project}/jobs?id={job}\tX-Auth-Token: {tokens[project]}" for project, job in sample]
    check = httpx.get(server.url + sample[0][1].join(["/v3/" + sample[0][0] + "/jobs?id=", ""]),
                      headers={"X-Auth-Token": tokens[sample[0][0]]})  # fmt: skip
    assert check.status_code == 200, check.text

    def run(label: str, lines: list[str]) -> WrkResult:
        return run_wrk(
            f"{path}: {label}", server.url, lines, work, connections=args.connections, seconds=args.seconds
        )

    # A warm-up, not recorded: otherwise the first reads of the sampled jobs are cold, as the
    # jobs that pollers read on a long-running server are not (and each path has a server anew).
    run_wrk("warm-up", server.url, token_lines, work, connections=args.connections, seconds=5)
    results = [run("/health", ["/health"]), run("GET job by id, X-Auth-Token", token_lines)]
    results.append(run("/health (again)", ["/health"]))
    results.append(run("GET job by id, AK/SK signed", signed_lines(server.url, sample, by_project)))
    results.append(run("/health (third)", ["/health"]))
    return results


TARGET_RATIO, TARGET_P99_MS = 0.8, 10.0
# Two /health runs around a GET run that differ by more than this mean the VM changed speed
# during the comparison (BENCHMARKS.md: by a third within one round, with no CPU stolen).
STEADY = 0.10


def report(args: argparse.Namespace, rounds: list[list[WrkResult]]) -> None:
    """Each GET run against the mean of the /health runs on either side of it, round by round.

    Rounds, because on a shared VM the same server's /health runs differ by a quarter within
    minutes (BENCHMARKS.md): one run proves little either way; the median of several says more.
    """
    print(
        f"\n{args.engine}, {args.jobs:,} jobs, {args.projects} projects, {args.connections} "
        f"connections, {args.seconds} s, {args.rounds} rounds of the paths {args.paths}; {machine()}; "
        f"{time.strftime('%Y-%m-%d')}\n"
    )
    print("| round | run | requests/s | p50 ms | p99 ms | errors | CPU stolen | vs /health around it |")
    print("|---|---|---|---|---|---|---|---|")
    ratios: dict[str, list[float]] = {}
    steady: dict[str, list[float]] = {}
    met: dict[str, int] = {}
    per_round = len(args.paths.split(","))
    for block, results in enumerate(rounds):
        number = block // per_round + 1
        for index, result in enumerate(results):
            cell = ""
            if index in (1, 3):
                before, after = results[index - 1].requests_per_second, results[index + 1].requests_per_second
                health = (before + after) / 2
                ratio = result.requests_per_second / health
                ratios.setdefault(result.label, []).append(ratio)
                met[result.label] = met.get(result.label, 0) + (
                    ratio >= TARGET_RATIO and result.p99_ms <= TARGET_P99_MS
                )
                cell = f"{ratio:.2f}x"
                moved = abs(before - after) / health
                if moved <= STEADY:
                    steady.setdefault(result.label, []).append(ratio)
                else:
                    cell += f" (/health moved {moved:.0%})"
            print(f"| {number} {result.row()} {cell} |")
    print()
    for label, values in ratios.items():
        kept = steady.get(label, [])
        print(
            f"{label}: median {statistics.median(values):.2f}x /health (range {min(values):.2f}-"
            f"{max(values):.2f}); target (>= {TARGET_RATIO}x and p99 <= {TARGET_P99_MS:g} ms) met in "
            f"{met[label]} of {len(values)} rounds; where /health stayed within {STEADY:.0%}: "
            + (f"median {statistics.median(kept):.2f}x in {len(kept)} rounds" if kept else "no round")
        )
    side_by_side(rounds)


def side_by_side(rounds: list[list[WrkResult]]) -> None:
    """Each GET run's medians per path, and the Python path's against the C's."""
    runs: dict[tuple[str, str], list[WrkResult]] = {}
    for results in rounds:
        for result in results[1:4:2]:
            path, label = result.label.split(": ", 1)
            runs.setdefault((label, path), []).append(result)
    print("\n| run | path | requests/s (median) | p99 ms (median) | vs the C path |")
    print("|---|---|---|---|---|")
    for (label, path), results in runs.items():
        rps = statistics.median(r.requests_per_second for r in results)
        p99 = statistics.median(r.p99_ms for r in results)
        c = runs.get((label, "c"))
        versus = (
            f"{rps / statistics.median(r.requests_per_second for r in c):.2f}x" if c and path != "c" else ""
        )
        print(f"| {label} | {path} | {rps:,.0f} | {p99:.2f} | {versus} |")


if __name__ == "__main__":
    main()
