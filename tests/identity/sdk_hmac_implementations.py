"""Running the AK/SK suites on both implementations of check(): the C one and its Python twin.

aksk.py calls the check() that sdk_hmac.py chose at import; the fixture puts each implementation
in its place in turn (the C one skipped only where the extension is not built), and using() does
the same inside a test (hypothesis runs a test's examples within one fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from taskcenter.identity import aksk, sdk_hmac
from taskcenter.identity.sdk_hmac import Check, Implementation

IMPLEMENTATIONS: tuple[Implementation, ...] = ("c", "python")


def check_of(implementation: Implementation) -> Check:
    """That implementation's check(); skips the test where the C is not built."""
    try:
        module = sdk_hmac.load(implementation)
    except ImportError as missing:
        pytest.skip(f"the C extension _sdk_hmac is not built here ({missing})")
    found: Check = module.check
    return found


@contextmanager
def using(implementation: Implementation) -> Iterator[Check]:
    """aksk verifies with ``implementation`` for the duration."""
    check = check_of(implementation)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aksk, "check", check)  # the name aksk imported and calls
        yield check


@pytest.fixture(params=IMPLEMENTATIONS)
def sdk_hmac_check(request: pytest.FixtureRequest) -> Iterator[Check]:
    """aksk verifies with each implementation in turn; the fixture's value is its check()."""
    with using(request.param) as check:
        yield check
