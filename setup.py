"""The C part of taskcenter; everything else is declared in pyproject.toml.

The poll lookups' reader threads (src/taskcenter/storage/_poll_readers.c says why they are C).
They link the system's SQLite (the library Python's sqlite3 module uses) and libpq.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "taskcenter.storage._poll_readers",
            sources=["src/taskcenter/storage/_poll_readers.c"],
            include_dirs=["/usr/include/postgresql"],
            libraries=["sqlite3", "pq"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
        )
    ]
)
