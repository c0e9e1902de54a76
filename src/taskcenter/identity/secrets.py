"""Random credentials in the shapes the cloud uses."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid

_AK_ALPHABET = string.ascii_uppercase + string.digits
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """A 32-hex-digit id, the shape of the cloud's project and user ids."""
    return uuid.uuid4().hex


def new_access_key() -> str:
    return "".join(secrets.choice(_AK_ALPHABET) for _ in range(20))


def new_secret_key() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(40))


def new_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(24))


def new_token() -> str:
    return secrets.token_urlsafe(48)


def token_hash(token: str) -> str:
    """Tokens are 384 random bits, so a fast hash is enough to keep them out of the store."""
    return hashlib.sha256(token.encode()).hexdigest()
