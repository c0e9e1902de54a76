from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from taskcenter.domain.errors import IllegalTransition, InvalidParameter
from taskcenter.domain.job import JobPatch, NewJob, apply_patch
from taskcenter.domain.status import FINAL_STATUSES, JobStatus, check_transition

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEGAL = {
    (JobStatus.PENDING, JobStatus.RUNNING),
    (JobStatus.PENDING, JobStatus.FAILED),
    (JobStatus.PENDING, JobStatus.CANCELED),
    (JobStatus.RUNNING, JobStatus.COMPLETED),
    (JobStatus.RUNNING, JobStatus.FAILED),
    (JobStatus.RUNNING, JobStatus.CANCELED),
}


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(JobStatus, JobStatus)))
def test_exactly_the_legal_moves_are_allowed(src: JobStatus, dst: JobStatus) -> None:
    if (src, dst) in LEGAL:
        check_transition(src, dst)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(src, dst)


@pytest.mark.parametrize("status", list(JobStatus))
def test_final_statuses_are_those_no_move_leaves(status: JobStatus) -> None:
    # Held to the table of legal moves above, not to FINAL_STATUSES, which is_final reads.
    final = not any(src is status for src, _ in LEGAL)
    assert status.is_final is final
    assert (status in FINAL_STATUSES) is final
    assert status.is_final is (status in {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})


def test_running_then_completed_sets_times_and_full_progress() -> None:
    job = NewJob("p", "Create", status=JobStatus.PENDING).to_job(T0)
    started, event = apply_patch(job, JobPatch(status=JobStatus.RUNNING, progress=10), T0 + timedelta(1))
    assert started.started == T0 + timedelta(1) and started.progress == 10
    assert event is not None and (event.from_status, event.to_status) == (
        JobStatus.PENDING,
        JobStatus.RUNNING,
    )
    done, _ = apply_patch(started, JobPatch(status=JobStatus.COMPLETED, progress=40), T0 + timedelta(2))
    assert done.ended == T0 + timedelta(2) and done.progress == 100


def test_progress_only_patch_records_no_event() -> None:
    job = NewJob("p", "Create").to_job(T0)
    updated, event = apply_patch(job, JobPatch(progress=30), T0)
    assert event is None and updated.progress == 30
    same, event = apply_patch(job, JobPatch(status=JobStatus.RUNNING), T0)
    assert event is None and same == job


def test_fail_reason_needs_failed_status() -> None:
    job = NewJob("p", "Create").to_job(T0)
    with pytest.raises(InvalidParameter, match="fail_reason"):
        apply_patch(job, JobPatch(fail_reason="boom"), T0)
    failed, _ = apply_patch(job, JobPatch(status=JobStatus.FAILED, fail_reason="boom"), T0)
    assert failed.fail_reason == "boom"
