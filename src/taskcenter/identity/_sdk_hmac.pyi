"""Types of the C module _sdk_hmac.c."""

def signature(
    secret: bytes,
    method: bytes,
    uri: bytes,
    query: bytes,
    headers: dict[bytes, bytes],
    names: tuple[bytes, ...],
    signed_list: bytes,
    payload_hash: bytes,
    date: bytes,
) -> bytes: ...
