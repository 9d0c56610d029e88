-- Job counts by exhibit, action and status, kept up to date by triggers as
-- rm_jobs changes, so a status request reads a few rows instead of
-- grouping every job of the case. `exhibit` is '' for jobs of no exhibit
-- (an exhibit ref is never empty).
CREATE TABLE rm_job_counts (
    case_id TEXT NOT NULL,
    exhibit TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (case_id, exhibit, action, status)
);
INSERT INTO rm_job_counts (case_id, exhibit, action, status, count)
    SELECT case_id, COALESCE(exhibit, ''), action, status, COUNT(*) FROM rm_jobs
    GROUP BY case_id, COALESCE(exhibit, ''), action, status;
CREATE TRIGGER rm_jobs_counted_on_insert AFTER INSERT ON rm_jobs BEGIN
    INSERT INTO rm_job_counts (case_id, exhibit, action, status, count)
        VALUES (NEW.case_id, COALESCE(NEW.exhibit, ''), NEW.action, NEW.status, 1)
        ON CONFLICT (case_id, exhibit, action, status) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER rm_jobs_counted_on_update AFTER UPDATE ON rm_jobs BEGIN
    UPDATE rm_job_counts SET count = count - 1
        WHERE case_id = OLD.case_id AND exhibit = COALESCE(OLD.exhibit, '')
        AND action = OLD.action AND status = OLD.status;
    INSERT INTO rm_job_counts (case_id, exhibit, action, status, count)
        VALUES (NEW.case_id, COALESCE(NEW.exhibit, ''), NEW.action, NEW.status, 1)
        ON CONFLICT (case_id, exhibit, action, status) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER rm_jobs_counted_on_delete AFTER DELETE ON rm_jobs BEGIN
    UPDATE rm_job_counts SET count = count - 1
        WHERE case_id = OLD.case_id AND exhibit = COALESCE(OLD.exhibit, '')
        AND action = OLD.action AND status = OLD.status;
END;
