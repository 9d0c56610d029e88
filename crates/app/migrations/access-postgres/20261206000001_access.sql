-- Who may reach which case through the HTTP API: organisations, their
-- users and API tokens (SHA-256 of the token only), case ownership and
-- read-only shares. Unlike the read model this is not a cache: it is the
-- only record of who may see what. Text compares byte by byte (COLLATE "C"),
-- as in SQLite.
CREATE TABLE ac_orgs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE ac_users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES ac_orgs (id),
    name TEXT COLLATE "C" NOT NULL,
    role TEXT COLLATE "C" NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE ac_tokens (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    sha256 TEXT COLLATE "C" NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES ac_users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE TABLE ac_cases (
    case_key TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    case_id TEXT COLLATE "C" NOT NULL,
    org_id BIGINT NOT NULL REFERENCES ac_orgs (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX ac_cases_org ON ac_cases (org_id, case_key);
CREATE TABLE ac_shares (
    case_key TEXT COLLATE "C" NOT NULL REFERENCES ac_cases (case_key),
    org_id BIGINT NOT NULL REFERENCES ac_orgs (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (case_key, org_id)
);
CREATE INDEX ac_shares_org ON ac_shares (org_id, case_key);
