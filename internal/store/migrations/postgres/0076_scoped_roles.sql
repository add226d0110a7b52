-- Roles scoped to teams and sites (docs/security.md, "Roles"): a JSON {"teams": [...],
-- "sites": [...]} limiting what a token or a user may touch; '' for no limit.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN scope TEXT NOT NULL DEFAULT '';
