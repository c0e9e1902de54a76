"""Types of the C module _sdk_hmac.c."""

def check(
    secret: bytes | None,
    names: tuple[bytes, ...],
    signed_list: bytes,
    signature: bytes,
    method: str,
    path: str | bytes,
    query: bytes,
    headers: dict[bytes, bytes],
    body: bytes,
    now: float,
) -> int: ...
