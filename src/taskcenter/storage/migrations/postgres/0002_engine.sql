-- The job engine: jobs with a handler are run by workers under a renewable lease.
ALTER TABLE jobs
    ADD COLUMN runnable BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN run_at TIMESTAMPTZ,
    ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
    ADD COLUMN lease_owner TEXT,
    ADD COLUMN lease_expires TIMESTAMPTZ,
    ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN params JSONB NOT NULL DEFAULT '{}',
    -- Created with a start time (a maintenance window): listed by GET .../scheduled-jobs.
    ADD COLUMN scheduled BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX jobs_project_scheduled ON jobs (project_id, run_at) WHERE scheduled;
CREATE INDEX jobs_due ON jobs (run_at, seq) WHERE runnable AND status = 'Pending';
CREATE INDEX jobs_leased ON jobs (lease_expires) WHERE runnable AND status = 'Running';
CREATE INDEX jobs_ended ON jobs (ended_at) WHERE ended_at IS NOT NULL;

ALTER TABLE job_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- One row per cluster-wide duty (maintenance); whoever holds an unexpired row leads it.
CREATE TABLE leaders (
    name     TEXT PRIMARY KEY,
    owner    TEXT NOT NULL,
    expires  TIMESTAMPTZ NOT NULL
);
