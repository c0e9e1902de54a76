"""Who may call: projects, users, access keys, tokens, and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    project_id: str
    password_hash: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key: str
    # The verifier needs the secret itself to recompute HMAC signatures (as the cloud's IAM
    # does), so unlike passwords and tokens it cannot be stored as a one-way hash.
    secret_key: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The identity a request acts as, resolved from a token or an AK/SK signature."""

    user_id: str
    user_name: str
    project_id: str
    project_name: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token_hash: str
    principal: Principal
    issued_at: datetime
    expires_at: datetime
