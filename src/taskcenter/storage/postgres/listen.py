"""The PostgreSQL store's LISTEN connection, restored with backoff whenever it is lost.

A killed backend, a restarted server or a failover ends the connection. Until it is back no
notification arrives and workers find new jobs only by polling (hundreds of times slower), so
it is re-established at once in the background: 0.1 s after the loss, then at doubling
intervals up to 5 s, for as long as it takes. One line is logged when it is lost and one when it
is back; the failed attempts in between only at debug level, as they say nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger("taskcenter.storage")

# Notified (jobs.sql, engine.sql: jobs_notify) when a job run by workers may have become due.
JOBS_CHANNEL = "taskcenter_jobs"

FIRST_RETRY = 0.1  # seconds after the loss
MAX_RETRY = 5.0  # seconds between attempts, at most
CLOSE_TIMEOUT = 5.0


class Listener:
    """Calls ``callback`` on every notification on ``channel``, over a connection of its own.

    Notifications sent while the connection was down are lost, so ``callback`` is also called
    once it is restored: the workers then look for due jobs at once instead of at their next poll.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        channel: str,
        callback: Callable[[], None],
        *,
        first_retry: float = FIRST_RETRY,
        max_retry: float = MAX_RETRY,
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._callback = callback
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._conn: asyncpg.Connection | None = None
        self._restoring: asyncio.Task[None] | None = None
        self._stopped = False

    async def start(self) -> None:
        """Listen; a failure here is the caller's (the store cannot be used without it)."""
        self._conn = await self._listen()

    async def stop(self) -> None:
        """Stop listening and close the connection. Never raises: it runs on every shutdown,
        including one just after the connection was lost."""
        self._stopped = True
        if self._restoring is not None:
            self._restoring.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._restoring
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close(timeout=CLOSE_TIMEOUT)  # the server drops the LISTEN with it
            except (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresError) as exc:
                log.debug("the LISTEN connection did not close cleanly (%s); it was aborted", exc)

    async def _listen(self) -> asyncpg.Connection:
        conn = await self._connect()
        try:
            # Watched before LISTEN runs, so a loss right after it is not missed.
            conn.add_termination_listener(self._on_lost)
            await conn.add_listener(self._channel, self._on_notify)
        except BaseException:
            conn.remove_termination_listener(self._on_lost)
            conn.terminate()
            raise
        return conn

    def _on_notify(self, *_: object) -> None:
        self._callback()

    def _on_lost(self, conn: object) -> None:
        if self._stopped or conn is not self._conn:
            return  # our own close, or a connection that never became the listening one
        self._conn = None
        log.warning(
            "the LISTEN connection to PostgreSQL was lost: new jobs are found only by polling "
            "until it is restored"
        )
        self._restoring = asyncio.get_running_loop().create_task(self._restore(), name="listen-restore")

    async def _restore(self) -> None:
        loop = asyncio.get_running_loop()
        lost_at = loop.time()
        delay, attempts = self._first_retry, 0
        while True:
            await asyncio.sleep(delay)
            attempts += 1
            try:
                conn = await self._listen()
            except Exception as exc:  # whatever the cause, the remedy is to try again later
                delay = min(delay * 2, self._max_retry)
                log.debug("LISTEN attempt %d failed (%r); next in %.1f s", attempts, exc, delay)
                continue
            self._conn = conn
            self._restoring = None
            log.info(
                "the LISTEN connection to PostgreSQL is restored, %.1f s after it was lost (%d %s)",
                loop.time() - lost_at, attempts, "attempt" if attempts == 1 else "attempts",
            )  # fmt: skip
            self._callback()
            return
