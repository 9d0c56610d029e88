-- Who may reach which case through the HTTP API: organisations, their
-- users and API tokens (SHA-256 of the token only), case ownership and
-- read-only shares. Unlike the read model this is not a cache: it is the
-- only record of who may see what.
CREATE TABLE ac_orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE ac_users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES ac_orgs (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE ac_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES ac_users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE TABLE ac_cases (
    case_key TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES ac_orgs (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX ac_cases_org ON ac_cases (org_id, case_key);
CREATE TABLE ac_shares (
    case_key TEXT NOT NULL REFERENCES ac_cases (case_key),
    org_id INTEGER NOT NULL REFERENCES ac_orgs (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (case_key, org_id)
);
CREATE INDEX ac_shares_org ON ac_shares (org_id, case_key);
