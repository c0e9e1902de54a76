"""Helpers shared by the tests: a pinned clock, databases, a server in a thread, signing."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
import uvicorn
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from taskcenter.api.protocol import HttpProtocol

PG_ADMIN_URL = os.environ.get("TASKCENTER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class PinnedClock:
    """A clock the test moves by hand; starts at the real time so signatures stay valid."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def create_pg_database() -> str:
    name = f"tc_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(PG_ADMIN_URL)
    return parts._replace(path=f"/{name}").geturl()


async def drop_pg_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerThread:
    """A real uvicorn server on a loopback port, in a thread of the test process."""

    app: Any
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        # The protocol and WebSocket setting `taskcenter serve` runs (the event loop stays
        # asyncio's: uvloop's would be installed for the whole test process).
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            http=HttpProtocol,
            ws="none",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            if not self.thread.is_alive():
                break
            threading.Event().wait(0.01)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def sign(
    ak: str,
    sk: str,
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers for ``url`` signed by the official SDK's own Signer."""
    parts = urlsplit(url)
    query = [tuple(p.split("=", 1)) for p in parts.query.split("&") if p]
    header_params = {"Content-Type": "application/json", **(headers or {})}
    request = SdkRequest(
        method=method,
        schema=parts.scheme,
        host=parts.netloc,
        resource_path=parts.path,
        query_params=[(unquote(k), unquote(v)) for k, v in query],
        header_params=header_params,
        body=body or None,
    )
    Signer(SimpleNamespace(ak=ak, sk=sk)).sign(request)
    return {k: str(v) for k, v in request.header_params.items()}
