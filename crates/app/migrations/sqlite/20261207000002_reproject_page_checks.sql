-- Passing page count checks are now projected too (the latest check of an
-- exhibit stands), so every case is projected again from its ledger: the
-- next refresh of a case finds no position and reads the ledger whole.
DELETE FROM rm_problems;
DELETE FROM rm_jobs;
DELETE FROM rm_job_counts;
DELETE FROM rm_events;
DELETE FROM rm_exhibits;
DELETE FROM rm_flags;
DELETE FROM rm_artefacts;
DELETE FROM rm_cases;
