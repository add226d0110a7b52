-- Directory syncs: the scheduled replace imports from an HTTPS CSV (internal/dirsync) and
-- how they went. One row per scheduled time (slot): the node that inserts it runs it, so
-- several nodes run each sync once; a manual run has the request time as its slot.
CREATE TABLE directory_syncs (
    id          TEXT    PRIMARY KEY,
    slot        INTEGER NOT NULL UNIQUE, -- unix ms
    owner       TEXT    NOT NULL,        -- the node running it
    status      TEXT    NOT NULL,        -- running, ok, refused, failed
    detail      TEXT    NOT NULL DEFAULT '',
    report      TEXT,                    -- JSON: the counts of the import (contacts.ReplaceReport)
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX directory_syncs_by_finish ON directory_syncs (finished_at);
