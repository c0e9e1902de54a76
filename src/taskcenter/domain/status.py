"""Job states. Which moves lead out of each is domain.moves' table, and only there."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    # Created for later. Left by: a worker's claim (Running); its producer starting it (Running)
    # or giving up on it (Failed, Canceled); a cancel request (Canceled).
    PENDING = "Pending"
    # Work is under way. Left by: its worker's end of the run (Completed, Failed, Canceled, or
    # Pending again for a retry or a hand-back); maintenance when its worker was lost (Pending,
    # Failed or Canceled); its producer (Completed, Failed, Canceled).
    RUNNING = "Running"
    # Final: nothing moves a job out of these three.
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})
