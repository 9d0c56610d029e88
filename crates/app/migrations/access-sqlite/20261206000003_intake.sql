-- What the HTTP API received for each case: uploads and how their ingest
-- went, uploads refused for a client hash that did not match, and bulk
-- submissions with a result per row. Not a cache: what was refused is
-- recorded nowhere else.
CREATE TABLE in_uploads (
    id TEXT PRIMARY KEY NOT NULL,
    case_key TEXT NOT NULL,
    case_id TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES ac_orgs (id),
    operator TEXT NOT NULL,
    exhibit TEXT NOT NULL,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX in_uploads_case ON in_uploads (case_key, sha256);
CREATE TABLE in_refusals (
    id INTEGER PRIMARY KEY,
    case_key TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES ac_orgs (id),
    operator TEXT NOT NULL,
    exhibit TEXT,
    filename TEXT,
    upload_id TEXT,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX in_refusals_case ON in_refusals (case_key, id);
CREATE TABLE in_submissions (
    id TEXT PRIMARY KEY NOT NULL,
    case_key TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES ac_orgs (id),
    operator TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE in_submission_rows (
    submission_id TEXT NOT NULL REFERENCES in_submissions (id),
    n INTEGER NOT NULL,
    place TEXT NOT NULL,
    exhibit TEXT,
    upload_id TEXT,
    accepted INTEGER NOT NULL,
    reason TEXT,
    PRIMARY KEY (submission_id, n)
);
