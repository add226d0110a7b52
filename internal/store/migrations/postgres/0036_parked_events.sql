-- PostgreSQL port of ../sqlite/0036_parked_events.sql: the same tables and columns;
-- event ids and unix-millisecond times are BIGINT (SQLite's INTEGER is 64-bit).
ALTER TABLE consumer_cursors ADD COLUMN failing_event BIGINT;
ALTER TABLE consumer_cursors ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE consumer_cursors ADD COLUMN retry_at BIGINT;
ALTER TABLE consumer_cursors ADD COLUMN last_error TEXT;

CREATE TABLE parked_events (
    consumer    TEXT    NOT NULL,
    event_id    BIGINT  NOT NULL,
    event_type  TEXT    NOT NULL,
    incident_id TEXT,
    reason      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    parked_at   BIGINT  NOT NULL,
    dismissed_at BIGINT,      -- set when an operator has dealt with it: it no longer degrades /readyz
    PRIMARY KEY (consumer, event_id)
);
