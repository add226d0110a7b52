-- The event log becomes a hash chain (internal/audit, docs/audit.md): each event stores
-- the hash of the one before it and its own, computed in the append's transaction. Events
-- appended before this migration have no hash; the chain starts with the first event
-- after it, recorded here, so that `optimum audit verify` knows every event from there on
-- must be chained (a hash set to NULL later is a break, not an old event).
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;

CREATE TABLE audit_chain (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    starts_at_event INTEGER NOT NULL, -- the first event id that carries a hash
    created_at      INTEGER NOT NULL  -- unix milliseconds
);
INSERT INTO audit_chain (id, starts_at_event, created_at)
SELECT 1, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000;
