-- Each event says which move of domain/moves.py's table it records (its type in the job's
-- timeline: claimed, retried, cancel_requested, ...). Events written before it have none ('').
ALTER TABLE job_events ADD COLUMN move TEXT NOT NULL DEFAULT '';
