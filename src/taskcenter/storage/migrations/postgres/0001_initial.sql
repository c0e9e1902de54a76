-- Identity: projects, users (one home project each), access keys, token hashes.
CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    project_id     TEXT NOT NULL REFERENCES projects (id),
    password_hash  TEXT NOT NULL,
    is_admin       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE access_keys (
    access_key  TEXT PRIMARY KEY,
    secret_key  TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    project_id  TEXT NOT NULL REFERENCES projects (id),
    issued_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX tokens_expires ON tokens (expires_at);

-- Jobs. seq gives a strict total order (newest first) that concurrent inserts cannot reorder.
CREATE TABLE jobs (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               UUID NOT NULL UNIQUE,
    project_id       TEXT NOT NULL,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('Pending', 'Running', 'Completed', 'Failed', 'Canceled')),
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    ended_at         TIMESTAMPTZ,
    progress         SMALLINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    instance_id      TEXT,
    instance_name    TEXT,
    entities         JSONB NOT NULL DEFAULT '{}',
    fail_reason      TEXT NOT NULL DEFAULT '',
    sub_tasks        JSONB NOT NULL DEFAULT '[]',
    idempotency_key  TEXT,
    -- A job has an end time exactly when its status is final.
    CONSTRAINT jobs_ended_iff_final
        CHECK ((status IN ('Completed', 'Failed', 'Canceled')) = (ended_at IS NOT NULL))
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (project_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_project_seq ON jobs (project_id, seq);
CREATE INDEX jobs_project_name ON jobs (project_id, name);

-- Append-only history of status changes, written in the same transaction as the change.
CREATE TABLE job_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       UUID NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, seq);

CREATE FUNCTION job_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'job_events is append-only';
END;
$$;
CREATE TRIGGER job_events_append_only BEFORE UPDATE ON job_events
    FOR EACH ROW EXECUTE FUNCTION job_events_append_only();
