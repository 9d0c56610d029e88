-- Per-organisation case namespaces: a case keeps its storage ID (case_key,
-- case_id: the store's, the ledger's, the read model's and the CLI's) and
-- gets the name its owner organisation gave it, unique per owner. Cases
-- made before are named by their storage IDs, so they resolve as before.
ALTER TABLE ac_cases ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE ac_cases ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE ac_cases SET name = case_id, name_key = case_key;
CREATE UNIQUE INDEX ac_cases_owner_name ON ac_cases (org_id, name_key);
CREATE INDEX ac_cases_name ON ac_cases (name_key);
