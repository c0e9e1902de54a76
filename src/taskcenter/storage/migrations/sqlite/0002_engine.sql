-- The job engine: jobs with a handler are run by workers under a renewable lease.
ALTER TABLE jobs ADD COLUMN runnable INTEGER NOT NULL DEFAULT 0 CHECK (runnable IN (0, 1));
ALTER TABLE jobs ADD COLUMN run_at_us INTEGER;
ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1 CHECK (max_attempts >= 1);
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_us INTEGER;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1));
ALTER TABLE jobs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
-- Created with a start time (a maintenance window): listed by GET .../scheduled-jobs.
ALTER TABLE jobs ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 0 CHECK (scheduled IN (0, 1));
CREATE INDEX jobs_project_scheduled ON jobs (project_id, run_at_us) WHERE scheduled = 1;
CREATE INDEX jobs_due ON jobs (run_at_us, seq) WHERE runnable = 1 AND status = 'Pending';
CREATE INDEX jobs_leased ON jobs (lease_expires_us) WHERE runnable = 1 AND status = 'Running';
CREATE INDEX jobs_ended ON jobs (ended_us) WHERE ended_us IS NOT NULL;

ALTER TABLE job_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- One row per cluster-wide duty (maintenance); whoever holds an unexpired row leads it.
CREATE TABLE leaders (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    expires_us  INTEGER NOT NULL
);
