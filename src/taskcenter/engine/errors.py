"""What a handler raises to say how its run ends, other than by returning."""

from __future__ import annotations


class PermanentFailure(Exception):
    """A failure that retrying cannot fix: the job fails at once, its message the reason."""


class Cancelled(Exception):
    """Raised by ``JobContext.check_cancelled`` once the job was asked to stop: it ends Canceled."""
