"""Coalescing the lookups of GET /v3/{project_id}/jobs?id= into batches, for both stores.

A poll is the task center's most frequent request. The lookups that one turn of the event loop
makes are handed to the database together, and while as many batches as allowed are being
fetched (PollBatcher says how many), the lookups that arrive wait: the hand-over is then paid
per batch, not per poll. Under light load a batch holds one lookup and nothing waits for a
timer.

Batches run on reader threads written in C (_poll_readers.c says why), which never take the
GIL, or on their pure-Python twin where the C is not built (storage.polls.readers chooses); the
event loop learns that a batch is done from a descriptor it watches (an eventfd, or a pipe), and
answers its polls. So the event loop's thread never waits for a lookup, and a lookup never waits
for it.

The reader thread also renders each answer, ``{"job": job_info(job)}``, from the job's columns,
the same way for both stores and both readers: taskcenter.domain.wire.job_info is the definition,
and the store contract tests hold the rendering to it field by field on each.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from datetime import datetime

from taskcenter.storage.columns import to_us
from taskcenter.storage.polls.readers import PollReader

log = logging.getLogger("taskcenter.storage")

Lookup = tuple[str, str, datetime, "asyncio.Future[bytes | None]"]
Batch = list[Lookup]


class PollBatcher(ABC):
    """Batches lookups made on the event loop's thread.

    A batch leaves once the event loop has run what was ready, not with the first lookup: all
    the polls an iteration read then leave together, in small batches handed to the reader at
    once. The reader runs them one after another and signals each, so the event loop answers the
    first batch's polls while the reader works on the next. With one large batch out instead,
    the event loop waited for all of it: under wrk, 32 connections fell into two convoys of
    about 16 polls, and the event loop idled 9-17% of the time while the reader and the database
    worked through one convoy (bench/NOTES.md, on both stores).

    Each batch costs PostgreSQL a statement, and the reader a hand-over: eight lookups a batch
    measured best on PostgreSQL (bench/NOTES.md, 2026-11-29, tenth session: per-thread CPU under
    wrk): with four, the database and the reader took a quarter more CPU a poll, which on two
    cores the event loop's thread lost to them; with 16 or 32, it waited for convoys again.
    SQLite pays per lookup anyway, and measured the same with 2, 4 and 8.
    """

    BATCH_SIZE = 8
    # At most 256 lookups out: the rest wait on the event loop, where a poll whose client went
    # away can still be dropped, and a failure (storage.polls._poll_readers) fails a bounded queue.
    IN_FLIGHT = 32

    def __init__(self, loop: asyncio.AbstractEventLoop, reader: PollReader) -> None:
        self._loop = loop
        self._reader = reader
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
        if not self._dispatch_due and len(self._sent) < self.IN_FLIGHT:
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
        while self._pending and len(self._sent) < self.IN_FLIGHT and not self._closed:
            batch, self._pending = self._pending[: self.BATCH_SIZE], self._pending[self.BATCH_SIZE :]
            lookups = [(job_id, project_id, to_us(since)) for job_id, project_id, since, _ in batch]
            try:
                number = self._reader.submit(lookups)
            except Exception as exc:
                # Out of memory, say. Run from call_soon, an exception here would only be logged
                # by the event loop and leave these polls waiting forever: they fail instead.
                log.exception("poll lookups could not be submitted")
                _fail(batch, exc)
                continue
            self._sent[number] = batch

    def _collect(self) -> None:
        try:
            finished = self._reader.collect()
        except Exception as exc:
            # Out of memory: the finished batches are lost (the reader frees what it could not
            # hand over), and which ones is not known. Every batch out fails its polls rather
            # than leave some waiting forever; the answers of those still running are dropped.
            log.exception("finished poll lookups could not be collected")
            for batch in self._sent.values():
                _fail(batch, exc)
            self._sent.clear()
            finished = []
        failures: list[str] = []
        for number, answers in finished:
            if number not in self._sent:  # failed above, when an earlier collect was lost
                continue
            batch = self._sent.pop(number)
            if isinstance(answers, str):
                failures.append(answers)
                _fail(batch, self._failure(answers))
            else:
                for (*_, future), body in zip(batch, answers, strict=True):
                    if not future.done():  # a caller that went away is skipped
                        future.set_result(body)
        if failures:
            # One line for the batches that failed together (those queued behind a failure fail
            # with it): an outage should not write a line per batch of polls.
            log.error("poll lookups failed (%d batches): %s", len(failures), failures[0].strip())
        self._dispatch()


def _fail(batch: Batch, error: Exception) -> None:
    for *_, future in batch:
        if not future.done():  # a caller that went away is skipped
            future.set_exception(error)
