-- The read model: a projection of each case's ledger. A cache; drop these
-- tables (or the schema) and it is rebuilt from the ledger.
-- Text that is sorted or grouped is COLLATE "C" (byte order), so the
-- order is the one SQLite gives, whatever the database's locale. Source
-- paths are sorted as bytes: a hostile path may hold NUL, which
-- PostgreSQL text cannot.
CREATE TABLE rm_cases (
    case_id TEXT COLLATE "C" PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    entry_sha256 TEXT NOT NULL
);
CREATE TABLE rm_artefacts (
    case_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    exhibit TEXT COLLATE "C" NOT NULL,
    has_source BOOLEAN NOT NULL,
    sort_path BYTEA NOT NULL,
    manifest TEXT NOT NULL,
    PRIMARY KEY (case_id, id)
);
CREATE INDEX rm_artefacts_order ON rm_artefacts (case_id, exhibit, has_source, sort_path, id);
CREATE TABLE rm_flags (
    case_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    flag TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (case_id, id, flag)
);
CREATE TABLE rm_exhibits (
    case_id TEXT COLLATE "C" NOT NULL,
    exhibit TEXT COLLATE "C" NOT NULL,
    item TEXT,
    PRIMARY KEY (case_id, exhibit)
);
CREATE TABLE rm_events (
    case_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    pos BIGINT NOT NULL,
    exhibit TEXT COLLATE "C",
    event TEXT NOT NULL,
    PRIMARY KEY (case_id, seq, pos)
);
CREATE TABLE rm_jobs (
    case_id TEXT COLLATE "C" NOT NULL,
    job_id TEXT COLLATE "C" NOT NULL,
    exhibit TEXT COLLATE "C",
    action TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (case_id, job_id)
);
CREATE TABLE rm_problems (
    case_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    text TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (case_id, seq, text)
);
