from __future__ import annotations

import pytest

from taskcenter.domain.moves import MOVES
from taskcenter.domain.status import FINAL_STATUSES, JobStatus


@pytest.mark.parametrize("status", list(JobStatus))
def test_final_statuses_are_those_no_move_leaves(status: JobStatus) -> None:
    # Held to the table of moves, not to FINAL_STATUSES, which is_final reads.
    final = not any(status in rule.sources for rule in MOVES.values())
    assert status.is_final is final
    assert (status in FINAL_STATUSES) is final
    assert status.is_final is (status in {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})
