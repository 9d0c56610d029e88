-- What the HTTP API received for each case: uploads and how their ingest
-- went, uploads refused for a client hash that did not match, and bulk
-- submissions with a result per row. Not a cache: what was refused is
-- recorded nowhere else.
CREATE TABLE in_uploads (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    case_key TEXT COLLATE "C" NOT NULL,
    case_id TEXT COLLATE "C" NOT NULL,
    org_id BIGINT NOT NULL REFERENCES ac_orgs (id),
    operator TEXT COLLATE "C" NOT NULL,
    exhibit TEXT COLLATE "C" NOT NULL,
    filename TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C",
    updated_at BIGINT NOT NULL
);
CREATE INDEX in_uploads_case ON in_uploads (case_key, sha256);
CREATE TABLE in_refusals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_key TEXT COLLATE "C" NOT NULL,
    org_id BIGINT NOT NULL REFERENCES ac_orgs (id),
    operator TEXT COLLATE "C" NOT NULL,
    exhibit TEXT COLLATE "C",
    filename TEXT COLLATE "C",
    upload_id TEXT COLLATE "C",
    reason TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX in_refusals_case ON in_refusals (case_key, id);
CREATE TABLE in_submissions (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    case_key TEXT COLLATE "C" NOT NULL,
    org_id BIGINT NOT NULL REFERENCES ac_orgs (id),
    operator TEXT COLLATE "C" NOT NULL,
    manifest_sha256 TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE in_submission_rows (
    submission_id TEXT COLLATE "C" NOT NULL REFERENCES in_submissions (id),
    n BIGINT NOT NULL,
    place TEXT COLLATE "C" NOT NULL,
    exhibit TEXT COLLATE "C",
    upload_id TEXT COLLATE "C",
    accepted BIGINT NOT NULL,
    reason TEXT COLLATE "C",
    PRIMARY KEY (submission_id, n)
);
