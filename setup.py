"""The C parts of taskcenter; everything else is declared in pyproject.toml.

Each C file's header says why it is C: the poll lookups' reader threads (linking the system's
SQLite, the library Python's sqlite3 module uses, and libpq) and the AK/SK signature (OpenSSL's
libcrypto, which Python's hashlib uses too).

Both are optional: where one does not build (no compiler, no headers, not Linux), setuptools says
so and installs the rest, and taskcenter runs that part in pure Python (storage/polls/readers.py
chooses). CFLAGS and LDFLAGS from the environment are added as usual (scripts/test-sanitizers
builds with AddressSanitizer that way).
"""

import shutil
import subprocess

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]


def pg_include_dirs() -> list[str]:
    """Where libpq's headers are, as pg_config says; none known without it (the build then fails
    for want of libpq-fe.h, and the poll readers run in Python)."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return []
    try:
        found = subprocess.run([pg_config, "--includedir"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return []
    return [found.stdout.strip()]


setup(
    ext_modules=[
        Extension(
            "taskcenter.storage.polls._poll_readers",
            sources=["src/taskcenter/storage/polls/_poll_readers.c"],
            include_dirs=pg_include_dirs(),
            libraries=["sqlite3", "pq"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
        Extension(
            "taskcenter.identity._sdk_hmac",
            sources=["src/taskcenter/identity/_sdk_hmac.c"],
            libraries=["crypto"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
    ]
)
