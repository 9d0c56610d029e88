-- The read model: a projection of each case's ledger. A cache; delete the
-- file and it is rebuilt from the ledger.
CREATE TABLE rm_cases (
    case_id TEXT PRIMARY KEY NOT NULL,
    last_seq INTEGER NOT NULL,
    entry_sha256 TEXT NOT NULL
);
CREATE TABLE rm_artefacts (
    case_id TEXT NOT NULL,
    id TEXT NOT NULL,
    exhibit TEXT NOT NULL,
    has_source INTEGER NOT NULL,
    sort_path TEXT NOT NULL,
    manifest TEXT NOT NULL,
    PRIMARY KEY (case_id, id)
);
CREATE INDEX rm_artefacts_order ON rm_artefacts (case_id, exhibit, has_source, sort_path, id);
CREATE TABLE rm_flags (
    case_id TEXT NOT NULL,
    id TEXT NOT NULL,
    flag TEXT NOT NULL,
    PRIMARY KEY (case_id, id, flag)
);
CREATE TABLE rm_exhibits (
    case_id TEXT NOT NULL,
    exhibit TEXT NOT NULL,
    item TEXT,
    PRIMARY KEY (case_id, exhibit)
);
CREATE TABLE rm_events (
    case_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    exhibit TEXT,
    event TEXT NOT NULL,
    PRIMARY KEY (case_id, seq, pos)
);
CREATE TABLE rm_jobs (
    case_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    exhibit TEXT,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (case_id, job_id)
);
CREATE TABLE rm_problems (
    case_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (case_id, seq, text)
);
