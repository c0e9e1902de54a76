"""Which check() verifies AK/SK signatures: the C one when built, else its pure-Python twin.

As uvicorn picks its HTTP protocol (uvicorn/protocols/http/auto.py): the C extension
(_sdk_hmac.c) when it imports, the pure-Python one (pure_sdk_hmac.py) otherwise, with the same
interface and the same outcome for every input. ``TASKCENTER_PURE_PYTHON=1`` in the environment
picks the Python one even where the C is built (to compare them). The C extension is optional in
the build (setup.py): without a compiler or OpenSSL's headers taskcenter installs and verifies
signatures in Python; README.md says what that costs a signed request.

aksk.py imports check() and its outcomes from here, chosen once at import.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Final, Literal, Protocol

PURE_PYTHON_VARIABLE = "TASKCENTER_PURE_PYTHON"

Implementation = Literal["c", "python"]


class Check(Protocol):
    """check(), typed as _sdk_hmac.pyi types it (_sdk_hmac.c says what it does)."""

    def __call__(
        self,
        secret: bytes | None,
        names: tuple[bytes, ...],
        signed_list: bytes,
        signature: bytes,
        method: str,
        path: bytes,
        query: bytes,
        headers: dict[bytes, bytes],
        body: bytes,
        now: float,
        canonical: bool,
        /,
    ) -> int: ...


def load(implementation: Implementation) -> ModuleType:
    """The module of one implementation; ImportError for "c" where the extension is not built."""
    if implementation == "c":
        from taskcenter.identity import _sdk_hmac

        return _sdk_hmac
    from taskcenter.identity import pure_sdk_hmac

    return pure_sdk_hmac


def _choose() -> Implementation:
    if os.environ.get(PURE_PYTHON_VARIABLE) == "1":
        return "python"
    try:
        load("c")
    except ImportError:
        return "python"
    return "c"


CHOSEN: Final = _choose()
_chosen = load(CHOSEN)

check: Final[Check] = _chosen.check

# check()'s outcomes, the same numbers in both implementations (_sdk_hmac.c says what each means).
VERIFIED: Final[int] = _chosen.VERIFIED
MALFORMED_SIGNATURE: Final[int] = _chosen.MALFORMED_SIGNATURE
NO_DATE: Final[int] = _chosen.NO_DATE
MALFORMED_DATE: Final[int] = _chosen.MALFORMED_DATE
DATE_SKEW: Final[int] = _chosen.DATE_SKEW
UNSIGNED_CONTENT_HASH: Final[int] = _chosen.UNSIGNED_CONTENT_HASH
MISMATCH: Final[int] = _chosen.MISMATCH
NOT_PLAIN: Final[int] = _chosen.NOT_PLAIN
UNCHECKED: Final[int] = _chosen.UNCHECKED
BODY_HASH_MISMATCH: Final[int] = _chosen.BODY_HASH_MISMATCH
