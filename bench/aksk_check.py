"""Benchmark: what verifying one AK/SK-signed request costs, with the C check and its Python twin.

Times aksk.verify() (what every signed request pays once its client is known: the signature's
form, the date, the body's hash, the canonical request, the HMAC) on requests signed by the
official SDK, with each implementation of check() in turn: a poll (GET-by-id, a plain path and
query, which the C canonicalises itself), a list whose query needs percent-encoding (aksk.py's
Python canonicalises it for both), and a POST with a 1 KiB body. CPU time, best of five timeit
repeats; the machine is shared: run it more than once before believing a difference of a few
percent.

    .venv/bin/python -m bench.aksk_check
    .venv/bin/python -m bench.aksk_check --properties 10000

--properties N instead runs the AK/SK property tests (tests/identity/test_aksk_properties.py and
test_sdk_hmac_twins.py) with N examples each, where the normal suite tries a few hundred.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

from bench.common import machine
from taskcenter.identity import aksk, sdk_hmac
from taskcenter.identity.sdk_hmac import Implementation
from tests.identity.properties import EXAMPLES_VARIABLE
from tests.identity.sdk_hmac_implementations import IMPLEMENTATIONS, using
from tests.support import sign

AK, SK = "HPUAXXXXXXXXXXXXXXXX", "secret-key-0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]
HOST = "http://127.0.0.1:8080"
CASES = {
    "poll (GET-by-id)": (
        "GET",
        "/v3/0123456789abcdef0123456789abcdef/jobs?id=a9767ede-fe0f-4888-9003-e843a4c90514",
        b"",
    ),
    "list, encoded query": (
        "GET",
        "/v3/0123456789abcdef/immediate-jobs?job_name=a%20b&limit=10&offset=1",
        b"",
    ),
    "POST, 1 KiB body": (
        "POST",
        "/internal/v1/jobs",
        b'{"name": "CreateGaussDBforMySQLInstance", "x": "' + b"y" * 980 + b'"}',
    ),
}


def verifier(method: str, target: str, body: bytes) -> Callable[[], None]:
    """aksk.verify() of the request as the SDK signs it, as the authenticator calls it for a
    known client (its Authorization head already parsed)."""
    headers = sign(
        AK,
        SK,
        method,
        HOST + target,
        body,
        {"X-Project-Id": "p1", "User-Agent": "huaweicloud-usdk-python/3.0"},
    )
    lowered = {k.lower().encode(): v.encode("latin-1") for k, v in headers.items()}
    head = aksk.parse_authorization(lowered[b"authorization"])
    _, signature = aksk.split_authorization(lowered[b"authorization"])
    path, _, query = target.partition("?")
    raw_path, query_string, secret = path.encode(), query.encode(), SK.encode()

    def verify() -> None:
        aksk.verify(secret, head, signature, method, raw_path, query_string, lowered, body, time.time())

    verify()  # it verifies
    return verify


def per_call_us(call: Callable[[], None], number: int) -> float:
    """CPU time per call (time.process_time: on a shared machine, wall time also counts the
    time other processes held the core), best of five repeats."""
    return min(timeit.repeat(call, number=number, repeat=5, timer=time.process_time)) / number * 1e6


def timing(number: int) -> None:
    built: list[Implementation] = []
    for implementation in IMPLEMENTATIONS:
        try:
            sdk_hmac.load(implementation)
        except ImportError:
            print(f"({implementation}: not built here)")
            continue
        built.append(implementation)
    print(machine())
    print(
        f"{'request':<24}" + "".join(f"{name:>10}" for name in built) + "   (µs of CPU per verify, best of 5)"
    )
    for label, (method, target, body) in CASES.items():
        row = []
        for implementation in built:
            with using(implementation):
                row.append(per_call_us(verifier(method, target, body), number))
        print(f"{label:<24}" + "".join(f"{us:>10.2f}" for us in row))


def properties(examples: int) -> int:
    tests = ["tests/identity/test_aksk_properties.py", "tests/identity/test_sdk_hmac_twins.py"]
    env = {**os.environ, EXAMPLES_VARIABLE: str(examples)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
        *tests,
    ]
    print(f"{EXAMPLES_VARIABLE}={examples}", " ".join(command[2:]), flush=True)
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    print(f"{time.monotonic() - started:.0f} s", flush=True)
    return done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per timeit repeat")
    parser.add_argument("--properties", type=int, metavar="N", help="run the property tests with N examples")
    args = parser.parse_args()
    if args.properties:
        sys.exit(properties(args.properties))
    timing(args.number)


if __name__ == "__main__":
    main()
