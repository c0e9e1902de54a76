"""Coalescing the lookups of GET /v3/{project_id}/jobs?id= into batches, for both stores.

A poll is the task center's most frequent request. While one batch of lookups is being
fetched, the lookups that arrive wait for the next batch, which fetches all of them with one
statement: a round trip (to PostgreSQL, or to SQLite's reader thread) is then paid per batch,
not per poll. Under light load a batch holds one lookup and nothing waits for a timer.

Each store renders the answer itself, in SQL, as ``{"job": job_info(job)}``:
taskcenter.domain.wire.job_info is the definition, and the store contract tests hold both
renderings to it field by field.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from datetime import datetime

log = logging.getLogger("taskcenter.storage")

# The most lookups one statement carries: bounds how long a batch keeps its first caller.
MAX_BATCH = 256

Lookup = tuple[str, str, datetime, "asyncio.Future[bytes | None]"]
Batch = list[Lookup]


class PollBatcher(ABC):
    """Batches lookups made on the event loop's thread, ``in_flight`` batches at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, in_flight: int) -> None:
        self._loop = loop
        self._pending: Batch = []
        self._in_flight = 0
        self._max_in_flight = in_flight
        self._closed = False

    def lookup(self, project_id: str, job_id: str, visible_since: datetime) -> asyncio.Future[bytes | None]:
        """The job's JSON body, or None when it is not shown to that project."""
        if self._closed:
            raise RuntimeError("the store is closed")
        future: asyncio.Future[bytes | None] = self._loop.create_future()
        self._pending.append((job_id, project_id, visible_since, future))
        if self._in_flight < self._max_in_flight:
            self._dispatch()
        return future

    @abstractmethod
    def _fetch(self, batch: Batch) -> None:
        """Start fetching ``batch``; when done, call ``_finish`` on the event loop's thread."""

    def _close(self) -> None:
        self._closed = True
        for *_, future in self._pending:
            if not future.done():
                future.set_exception(RuntimeError("the store is closed"))
        self._pending = []

    def _dispatch(self) -> None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        self._in_flight += 1
        self._fetch(batch)

    def _finish(self, batch: Batch, found: list[bytes | None] | None, error: BaseException | None) -> None:
        """Answer every lookup of ``batch``: ``found`` holds each lookup's body, or None."""
        if error is not None:
            log.error("poll lookups failed: %s", error)
            for *_, future in batch:
                if not future.done():
                    future.set_exception(error)
        else:
            assert found is not None
            for (*_, future), body in zip(batch, found, strict=True):
                if not future.done():  # a caller that went away is skipped
                    future.set_result(body)
        self._in_flight -= 1
        if self._pending and not self._closed:
            self._dispatch()
