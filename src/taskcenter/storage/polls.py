"""Coalescing the lookups of GET /v3/{project_id}/jobs?id= into batches, for both stores.

A poll is the task center's most frequent request. While a batch of lookups is being fetched,
the lookups that arrive wait for the next batch, which fetches all of them at once: the
hand-over to the database is then paid per batch, not per poll. Under light load a batch holds
one lookup and nothing waits for a timer.

Batches run on reader threads written in C (_poll_readers.c says why), which never take the
GIL; the event loop learns that a batch is done from an eventfd it watches, and answers its
polls. So the event loop's thread never waits for a lookup, and a lookup never waits for it.

The reader thread also renders each answer, ``{"job": job_info(job)}``, from the job's columns,
in C and the same way for both stores: taskcenter.domain.wire.job_info is the definition, and
the store contract tests hold the rendering to it field by field on each.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Generic, TypeVar

from taskcenter.storage._poll_readers import PostgresReader, SqliteReader
from taskcenter.storage.rows import to_us

log = logging.getLogger("taskcenter.storage")

# The most lookups one statement carries: bounds how long a batch keeps its first caller.
MAX_BATCH = 256

Lookup = tuple[str, str, datetime, "asyncio.Future[bytes | None]"]
Batch = list[Lookup]
Reader = TypeVar("Reader", SqliteReader, PostgresReader)


class PollBatcher(ABC, Generic[Reader]):
    """Batches lookups made on the event loop's thread, one batch in flight.

    A batch leaves once the event loop has run what was ready, not with the first lookup: all
    the polls an iteration read then travel together. And only one travels at a time: measured
    on PostgreSQL (BENCHMARKS.md), a second batch in flight split the lookups into smaller
    batches, each paying the statement's fixed cost, and lowered throughput; a third lowered it
    further.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, reader: Reader) -> None:
        self._loop = loop
        self._reader: Reader = reader
        self._pending: Batch = []
        self._sent: dict[int, Batch] = {}
        self._dispatch_due = False
        self._closed = False
        loop.add_reader(reader.fileno(), self._collect)

    def lookup(self, project_id: str, job_id: str, visible_since: datetime) -> asyncio.Future[bytes | None]:
        """The job's JSON body, or None when it is not shown to that project."""
        if self._closed:
            raise RuntimeError("the store is closed")
        future: asyncio.Future[bytes | None] = self._loop.create_future()
        self._pending.append((job_id, project_id, visible_since, future))
        if not self._dispatch_due and not self._sent:
            self._dispatch_due = True
            self._loop.call_soon(self._dispatch)
        return future

    def close(self) -> None:
        """Answers the batches already handed to the reader; refuses the rest."""
        self._closed = True
        self._loop.remove_reader(self._reader.fileno())
        self._reader.close()  # runs what was submitted, then stops
        self._collect()
        for *_, future in self._pending:
            if not future.done():
                future.set_exception(RuntimeError("the store is closed"))
        self._pending = []

    @abstractmethod
    def _failure(self, message: str) -> Exception:
        """What the polls of a failed batch raise."""

    def _dispatch(self) -> None:
        self._dispatch_due = False
        if self._sent or self._closed or not self._pending:
            return
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        lookups = [(job_id, project_id, to_us(since)) for job_id, project_id, since, _ in batch]
        try:
            number = self._reader.submit(lookups)
        except Exception as exc:
            # Out of memory, say. Run from call_soon, an exception here would only be logged by
            # the event loop and leave these polls waiting forever: they fail instead.
            log.exception("poll lookups could not be submitted")
            _fail(batch, exc)
            if self._pending:
                self._dispatch_due = True
                self._loop.call_soon(self._dispatch)
            return
        self._sent[number] = batch

    def _collect(self) -> None:
        try:
            finished = self._reader.collect()
        except Exception as exc:
            # Out of memory: the finished batches are lost (the reader frees what it could not
            # hand over). With one batch in flight, that is the one sent, whose polls fail rather
            # than wait forever.
            log.exception("finished poll lookups could not be collected")
            for batch in self._sent.values():
                _fail(batch, exc)
            self._sent.clear()
            finished = []
        for number, answers in finished:
            batch = self._sent.pop(number)
            if isinstance(answers, str):
                log.error("poll lookups failed: %s", answers)
                _fail(batch, self._failure(answers))
            else:
                for (*_, future), body in zip(batch, answers, strict=True):
                    if not future.done():  # a caller that went away is skipped
                        future.set_result(body)
        self._dispatch()


def _fail(batch: Batch, error: Exception) -> None:
    for *_, future in batch:
        if not future.done():  # a caller that went away is skipped
            future.set_exception(error)
