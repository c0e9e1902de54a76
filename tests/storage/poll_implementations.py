"""Both implementations of the poll readers, for the suites that must hold on each."""

from __future__ import annotations

import os

import pytest

from taskcenter.storage.polls import readers as poll_readers

NAMES = ["c", "python"]


def readers_named(name: str) -> poll_readers.Readers:
    """The named readers. The C ones are skipped where the extension is not built, unless
    TASKCENTER_TEST_REQUIRE_C=1 (scripts/test-sanitizers, which builds them) makes that a failure."""
    if name == "python":
        return poll_readers.python_readers()
    try:
        return poll_readers.c_readers()
    except ImportError:
        if os.environ.get("TASKCENTER_TEST_REQUIRE_C") == "1":
            raise
        pytest.skip("the C poll readers are not built (optional in setup.py)")


def use(name: str, monkeypatch: pytest.MonkeyPatch) -> poll_readers.Readers:
    """Makes the stores opened from now on in this test use the named readers."""
    readers = readers_named(name)
    monkeypatch.setattr(poll_readers, "CHOSEN", readers)
    return readers
