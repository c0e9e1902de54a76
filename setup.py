"""The C parts of taskcenter; everything else is declared in pyproject.toml.

Each C file's header says why it is C: the poll lookups' reader threads (linking the system's
SQLite, the library Python's sqlite3 module uses, and libpq) and the AK/SK signature (OpenSSL's
libcrypto, which Python's hashlib uses too).
"""

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]

setup(
    ext_modules=[
        Extension(
            "taskcenter.storage._poll_readers",
            sources=["src/taskcenter/storage/_poll_readers.c"],
            include_dirs=["/usr/include/postgresql"],
            libraries=["sqlite3", "pq"],
            extra_compile_args=FLAGS,
        ),
        Extension(
            "taskcenter.identity._sdk_hmac",
            sources=["src/taskcenter/identity/_sdk_hmac.c"],
            libraries=["crypto"],
            extra_compile_args=FLAGS,
        ),
    ]
)
