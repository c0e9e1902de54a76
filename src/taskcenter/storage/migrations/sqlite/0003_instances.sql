-- TaurusDB instances that taskcenter runs (the local MariaDB driver).
CREATE TABLE instances (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    flavor_ref  TEXT NOT NULL,
    port        INTEGER,
    request     TEXT NOT NULL DEFAULT '{}',
    created_us  INTEGER NOT NULL,
    updated_us  INTEGER NOT NULL
);
CREATE INDEX instances_project ON instances (project_id, created_us);
CREATE INDEX jobs_instance_active ON jobs (instance_id) WHERE ended_us IS NULL AND instance_id IS NOT NULL;

-- Manual backups: a consistent logical dump of an instance's server.
CREATE TABLE backups (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL DEFAULT 0,
    begin_us     INTEGER NOT NULL,
    end_us       INTEGER
);
CREATE INDEX backups_project ON backups (project_id, begin_us);

-- The action names a project has used, in their own small table (as on PostgreSQL, where this
-- spares an index on jobs that every update would have to maintain).
DROP INDEX jobs_project_name;
CREATE TABLE job_names (
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);
INSERT INTO job_names SELECT DISTINCT project_id, name FROM jobs;
