"""Types of the C module _sdk_hmac.c (pure_sdk_hmac.py is its Python twin)."""

# check()'s outcomes.
VERIFIED: int
MALFORMED_SIGNATURE: int
NO_DATE: int
MALFORMED_DATE: int
DATE_SKEW: int
UNSIGNED_CONTENT_HASH: int
MISMATCH: int
NOT_PLAIN: int
UNCHECKED: int
BODY_HASH_MISMATCH: int

def check(
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
