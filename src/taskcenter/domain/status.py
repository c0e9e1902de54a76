"""Job states and the only moves allowed between them."""

from __future__ import annotations

from enum import StrEnum

from taskcenter.domain.errors import IllegalTransition


class JobStatus(StrEnum):
    # Created for later (a delayed task). Left by: its producer starting it (Running),
    # a cancel (Canceled), or its producer giving up on it before it ran (Failed).
    PENDING = "Pending"
    # Work is under way. Left by: its producer finishing it (Completed or Failed) or a cancel.
    RUNNING = "Running"
    # Final: nothing moves a job out of these three.
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})

ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


def check_transition(current: JobStatus, target: JobStatus) -> None:
    """Raise IllegalTransition unless a job may move from ``current`` to ``target``."""
    if target not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(current.value, target.value)
