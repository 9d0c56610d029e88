-- A damaged E01 set (media that fails its chunk checksums or its stored
-- hash) is now projected as a notable event, so `show` flags it; every
-- case is projected again from its ledger on its next refresh.
DELETE FROM rm_problems;
DELETE FROM rm_jobs;
DELETE FROM rm_job_counts;
DELETE FROM rm_events;
DELETE FROM rm_exhibits;
DELETE FROM rm_flags;
DELETE FROM rm_artefacts;
DELETE FROM rm_cases;
