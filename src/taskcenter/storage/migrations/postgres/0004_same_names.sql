-- What the flag says: the job is run by workers (it has a handler), not only reported on by its
-- producer. (The other columns already have the names SQLite now gives them too.)
ALTER TABLE jobs RENAME COLUMN runnable TO run_by_worker;

-- entities, sub_tasks and params are kept as the text they were written as: json, not jsonb,
-- which reordered an object's keys and added spaces, so that both stores answer a job with the
-- same bytes, the producer's key order kept. Rows written before keep the text jsonb gives them
-- (its key order, with spaces): what the producer sent is no longer known.
-- The poll readers (storage/polls/_poll_readers.c and pure_readers.py) read json's binary form,
-- which is its text; jsonb's had a version byte first.
ALTER TABLE jobs
    ALTER COLUMN entities DROP DEFAULT,
    ALTER COLUMN sub_tasks DROP DEFAULT,
    ALTER COLUMN params DROP DEFAULT;
ALTER TABLE jobs
    ALTER COLUMN entities TYPE json USING entities::json,
    ALTER COLUMN sub_tasks TYPE json USING sub_tasks::json,
    ALTER COLUMN params TYPE json USING params::json;
ALTER TABLE jobs
    ALTER COLUMN entities SET DEFAULT '{}',
    ALTER COLUMN sub_tasks SET DEFAULT '[]',
    ALTER COLUMN params SET DEFAULT '{}';
