-- PostgreSQL port of ../sqlite/0042_audit_chain.sql: the event log becomes a hash chain
-- from the first event appended after this migration.
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;

CREATE TABLE audit_chain (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    starts_at_event BIGINT  NOT NULL, -- the first event id that carries a hash
    created_at      BIGINT  NOT NULL  -- unix milliseconds
);
INSERT INTO audit_chain (id, starts_at_event, created_at)
SELECT 1, COALESCE((SELECT max(id) FROM events), 0) + 1, (extract(epoch FROM now()) * 1000)::bigint;
