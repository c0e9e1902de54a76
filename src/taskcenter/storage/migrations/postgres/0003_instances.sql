-- TaurusDB instances that taskcenter runs (the local MariaDB driver).
CREATE TABLE instances (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    flavor_ref  TEXT NOT NULL,
    port        INTEGER,
    request     JSONB NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX instances_project ON instances (project_id, created_at);
CREATE INDEX jobs_instance_active ON jobs (instance_id) WHERE ended_at IS NULL AND instance_id IS NOT NULL;

-- Manual backups: a consistent logical dump of an instance's server.
CREATE TABLE backups (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL DEFAULT 0,
    begin_at     TIMESTAMPTZ NOT NULL,
    end_at       TIMESTAMPTZ
);
CREATE INDEX backups_project ON backups (project_id, begin_at);

-- Fewer indexes on jobs, since every claim and end updates a row and every index takes an entry:
-- id becomes the primary key (seq stays, ordered by the (project_id, seq) index), and the
-- action names a project has used move to their own small table.
ALTER TABLE jobs DROP CONSTRAINT jobs_pkey;
ALTER TABLE jobs DROP CONSTRAINT jobs_id_key;
ALTER TABLE jobs ADD PRIMARY KEY (id);
DROP INDEX jobs_project_name;
CREATE TABLE job_names (
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);
INSERT INTO job_names SELECT DISTINCT project_id, name FROM jobs;
