-- Job counts by exhibit, action and status, kept up to date by a trigger as
-- rm_jobs changes, so a status request reads a few rows instead of
-- grouping every job of the case. `exhibit` is '' for jobs of no exhibit
-- (an exhibit ref is never empty).
CREATE TABLE rm_job_counts (
    case_id TEXT COLLATE "C" NOT NULL,
    exhibit TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (case_id, exhibit, action, status)
);
INSERT INTO rm_job_counts (case_id, exhibit, action, status, count)
    SELECT case_id, COALESCE(exhibit, ''), action, status, COUNT(*) FROM rm_jobs
    GROUP BY case_id, COALESCE(exhibit, ''), action, status;
-- OR REPLACE: a dropped read model is made again by running every
-- migration, and dropping its tables leaves the function behind.
CREATE OR REPLACE FUNCTION rm_jobs_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE rm_job_counts SET count = count - 1
            WHERE case_id = OLD.case_id AND exhibit = COALESCE(OLD.exhibit, '')
            AND action = OLD.action AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO rm_job_counts (case_id, exhibit, action, status, count)
            VALUES (NEW.case_id, COALESCE(NEW.exhibit, ''), NEW.action, NEW.status, 1)
            ON CONFLICT (case_id, exhibit, action, status) DO UPDATE SET count = rm_job_counts.count + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER rm_jobs_counted AFTER INSERT OR UPDATE OR DELETE ON rm_jobs
    FOR EACH ROW EXECUTE FUNCTION rm_jobs_count();
