-- Per-organisation case namespaces: a case keeps its storage ID (case_key,
-- case_id: the store's, the ledger's, the read model's and the CLI's) and
-- gets the name its owner organisation gave it, unique per owner. Cases
-- made before are named by their storage IDs, so they resolve as before.
ALTER TABLE ac_cases ADD COLUMN name TEXT COLLATE "C";
ALTER TABLE ac_cases ADD COLUMN name_key TEXT COLLATE "C";
UPDATE ac_cases SET name = case_id, name_key = case_key;
ALTER TABLE ac_cases ALTER COLUMN name SET NOT NULL;
ALTER TABLE ac_cases ALTER COLUMN name_key SET NOT NULL;
CREATE UNIQUE INDEX ac_cases_owner_name ON ac_cases (org_id, name_key);
CREATE INDEX ac_cases_name ON ac_cases (name_key);
